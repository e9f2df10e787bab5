(ns raftkv.client
  "Sending a Jepsen operation to a node and turning the answer into a
  completion (see raftkv.answer for the rules). Each Jepsen worker is bound
  to one node, so requests spread over all nodes; a node forwards what it
  must to the leader."
  (:require [raftkv.answer :as answer]
            [raftkv.api :as api]
            [raftkv.http :as http]))

(def default-timeout-ms 5000)

(defn call
  "Sends one request to the node's client API. Returns the raw answer."
  [test node method path body]
  (http/request method (api/node-url test node path) body
                {:timeout-ms (:request-timeout-ms test default-timeout-ms)}))

(defn complete
  "The completion of op given the raw answer: type and error from
  raftkv.answer, value from (value-fn classified-answer) on :ok."
  [op raw read-only? value-fn]
  (let [c (answer/outcome raw read-only?)]
    (case (:type c)
      :ok   (assoc op :type :ok, :value (value-fn raw c))
      (cond-> (assoc op :type (:type c), :error (:error c))
        (contains? c :current) (assoc :current (:current c))))))
