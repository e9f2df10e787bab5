(ns raftkv.append
  "The list-append workload: transactions of reads and appends over several
  keys in one POST /txn, checked by Elle for strict serializability. This is
  the check of /txn's atomicity across keys."
  (:require [jepsen [client :as client]]
            [jepsen.tests.cycle.append :as append]
            [raftkv.client :as rc]
            [raftkv.txn :as t]))

(defrecord Client [node prefix]
  client/Client
  (open! [this test node] (assoc this :node node, :prefix (:key-prefix test)))
  (setup! [this test])
  (invoke! [this test op]
    (let [mops (:value op)
          raw  (rc/call test node "POST" "/txn" (t/encode-txn prefix mops))]
      (try
        (rc/complete op raw (t/read-only? mops)
                     (fn [raw _] (t/decode-txn mops (:body raw))))
        (catch clojure.lang.ExceptionInfo e
          ; an answer we cannot read: the txn may have happened
          (assoc op :type (if (t/read-only? mops) :fail :info)
                 :error [:bad-answer (.getMessage e)])))))
  (teardown! [this test])
  (close! [this test]))

(defn workload
  [opts]
  (assoc (append/test {:key-count          (:key-count opts 10)
                       :min-txn-length     1
                       :max-txn-length     (:max-txn-length opts 4)
                       :max-writes-per-key (:max-writes-per-key opts 64)
                       :consistency-models [:strict-serializable]
                       ; Elle gives graphviz 5 s per cycle plot, then
                       ; abandons the thread but not the `dot` process: on
                       ; a busy machine a 64 KiB graph (its default cap, 70-90
                       ; transactions) was seen rendering on for 10 min after
                       ; the test had exited, three at a time, slowing the
                       ; next tests. Small graphs render in time; bigger
                       ; cycles are still explained in elle/*.txt.
                       :max-plot-bytes     16384})
         :client (->Client nil nil)))
