(ns raftkv.api
  "Calls to a node's admin API and its fault agent, addressed by Jepsen node
  name through the test's :targets (see raftkv.targets) and signed with the
  test's :admin-token. No jepsen.* here."
  (:refer-clojure :exclude [agent])
  (:require [raftkv.http :as http]))

(defn target [test node]
  (or (get (:targets test) node)
      (throw (ex-info (str "no target for node " node " (see --targets)")
                      {:type ::no-target, :node node}))))

(defn node-url [test node path] (str (:http (target test node)) path))
(defn agent-url [test node path] (str (:agent (target test node)) path))

(defn admin
  "A request to the node's HTTP port (admin token attached)."
  ([test node method path] (admin test node method path nil))
  ([test node method path body]
   (http/request method (node-url test node path) body
                 {:token (:admin-token test), :timeout-ms 5000})))

(def members-timeout-ms
  "POST /admin/members answers once the change is committed: give it longer
  than other admin calls."
  15000)

(defn change-members
  "POST /admin/members with body (a map) to the node."
  [test node body]
  (http/request "POST" (node-url test node "/admin/members") body
                {:token (:admin-token test), :timeout-ms members-timeout-ms}))

(defn agent
  "A request to the node's fault agent."
  ([test node method path] (agent test node method path nil))
  ([test node method path body]
   (http/request method (agent-url test node path) body
                 {:token (:admin-token test), :timeout-ms 10000})))

(defn ok?
  "True for a 2xx answer."
  [answer]
  (let [s (:status answer)] (boolean (and s (<= 200 s 299)))))

(defn agent-log
  "The node's log file as a string (GET /agent/logs)."
  [test node]
  (http/request "GET" (agent-url test node "/agent/logs") nil
                {:token (:admin-token test), :timeout-ms 30000, :raw? true}))

(defn check!
  "Returns the answer when it is 2xx, throws ex-info naming the request otherwise."
  [what answer]
  (if (ok? answer)
    answer
    (throw (ex-info (str what " failed: " (pr-str (select-keys answer [:status :body :error :message])))
                    {:type ::request-failed, :what what, :answer answer}))))

(defn agent-state [test node]
  (let [a (agent test node "GET" "/agent/status")]
    (when (ok? a) (get (:body a) "state"))))

(defn status [test node]
  (let [a (admin test node "GET" "/admin/status")]
    (when (ok? a) (:body a))))

(defn ready? [test node]
  (= 200 (:status (admin test node "GET" "/readyz"))))

(defn await-until
  "Polls (f) every 200 ms until it is truthy; throws after timeout-ms."
  [what timeout-ms f]
  (let [deadline (+ (System/currentTimeMillis) timeout-ms)]
    (loop []
      (or (f)
          (if (< (System/currentTimeMillis) deadline)
            (do (Thread/sleep 200) (recur))
            (throw (ex-info (str "timed out waiting for " what)
                            {:type ::timeout, :what what})))))))
