(ns raftkv.register
  "The register workload: independent keys (jepsen.independent), each a
  register read, written and cas'd over GET/PUT /kv/K and POST /kv/K/cas,
  checked with Knossos' cas-register model. An absent key reads as :absent,
  the model's initial value (Knossos would take nil as any value)."
  (:require [jepsen [checker :as checker]
                    [client :as client]
                    [generator :as gen]
                    [independent :as independent]]
            [jepsen.checker.timeline :as timeline]
            [knossos.model :as model]
            [raftkv.client :as rc]
            [raftkv.txn :as t]))

(defn- path [prefix k & more] (apply str "/kv/" (t/key-name prefix k) more))

(defrecord Client [node prefix]
  client/Client
  (open! [this test node] (assoc this :node node, :prefix (:key-prefix test)))
  (setup! [this test])
  (invoke! [this test op]
    (let [[k v] (:value op)
          done  (fn [raw read-only? value-fn]
                  (rc/complete op raw read-only? value-fn))]
      (case (:f op)
        :read  (done (rc/call test node "GET" (path prefix k) nil) true
                     (fn [raw _] (independent/tuple
                                   k (t/register-value (get (:body raw) "value")))))
        :write (done (rc/call test node "PUT" (path prefix k) (t/register-body v)) false
                     (fn [_ _] (:value op)))
        :cas   (done (rc/call test node "POST" (path prefix k "/cas") (t/cas-body v)) false
                     (fn [_ _] (:value op))))))
  (teardown! [this test])
  (close! [this test]))

(defn r   [_ _] {:type :invoke, :f :read, :value nil})
(defn w   [_ _] {:type :invoke, :f :write, :value (rand-int 5)})
(defn cas [_ _] {:type :invoke, :f :cas
                 :value [(if (< (rand) 0.2) t/absent (rand-int 5)) (rand-int 5)]})

(defn threads-per-key
  "Workers per key: the largest divisor of the concurrency that is at most the
  node count (jepsen.independent wants the concurrency to be a multiple)."
  [concurrency nodes]
  (->> (range (max 1 (min nodes concurrency)) 0 -1)
       (filter #(zero? (mod concurrency %)))
       first))

(defn op-mix
  "The generators a key's operations are drawn from, uniformly: read-weight
  reads for each write and each cas."
  [read-weight]
  (into (vec (repeat (max 1 read-weight) r)) [w cas]))

(defn workload
  "opts: :ops-per-key, :unknown-per-key, :read-weight, :concurrency, :nodes.

  A key moves on after ops-per-key operations, or once unknown-per-key of
  them ended :info, whichever comes first (gen/process-limit: an :info ends
  its worker's process, the next op on the key takes a new one). Every :info
  write or cas stays concurrent with everything after it, so Knossos' search
  grows with their number per key: a cluster that answers nothing for
  seconds (a majority down) would otherwise fill one key with dozens of them
  and exhaust the checker's memory.

  read-weight > 1 makes reads the likelier first operation a key sees after
  a fault, and makes fewer :info (a read that times out is a :fail): a write
  lost by the fault is hidden from Knossos by any later write that lands
  before a read does."
  [opts]
  (let [n       (count (:nodes opts))
        threads (threads-per-key (:concurrency opts n) n)
        keys-from (fn [first-key]
                    (independent/concurrent-generator
                      threads
                      (range first-key Long/MAX_VALUE)
                      (fn [k] (->> (gen/mix (op-mix (:read-weight opts 1)))
                                   (gen/limit (:ops-per-key opts 200))
                                   (gen/process-limit (+ threads (:unknown-per-key opts 10)))))))
        final-s (:final-time opts 10)]
    {:client    (->Client nil nil)
     :generator (keys-from 0)
     ; After every fault is healed (and --recovery-time), the same mix runs
     ; --final-time seconds more on keys of its own (from 1,000,000: a run's
     ; main phase never gets near them), so the history shows whether the
     ; cluster came back: a nemesis that kept a majority down for the whole
     ; main phase (kill + wipe + pause overlapping under `all`) otherwise
     ; leaves no :ok at all, which checker/stats rightly calls invalid.
     :final-generator (when (pos? final-s)
                        (->> (keys-from 1000000)
                             (gen/stagger (/ 1 (:rate opts 100)))
                             (gen/time-limit final-s)))
     :checker   (independent/checker
                  (checker/compose
                    {:linear   (checker/linearizable
                                 {:model     (model/cas-register t/absent)
                                  :algorithm :linear})
                     :timeline (timeline/html)}))}))
