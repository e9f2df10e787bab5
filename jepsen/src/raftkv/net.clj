(ns raftkv.net
  "A jepsen.net implementation over the node's own fault API, so Jepsen's
  stock partition generators (jepsen.nemesis/partitioner and the combined
  partition package) work without iptables or SSH:
    drop-all! / drop!  POST /admin/faults/partition (one body per node, see
                       raftkv.grudge)
    heal!              DELETE /admin/faults/partition on every node
    slow! / flaky!     POST /admin/faults/net (delay / loss)
    fast!              DELETE /admin/faults/net on every node"
  (:require [clojure.tools.logging :refer [info warn]]
            [dom-top.core :refer [real-pmap]]
            [jepsen.net.proto :as p]
            [raftkv.api :as api]
            [raftkv.grudge :as grudge]))

(defn- name->id [test]
  (into {} (map (fn [[n t]] [n (:id t)]) (:targets test))))

(defn- on-all! [test f]
  (doall (real-pmap f (:nodes test))))

(defn- delete-kind! [test kind]
  (on-all! test (fn [node]
                  (let [a (api/admin test node "DELETE" (str "/admin/faults/" kind))]
                    (when-not (api/ok? a)
                      ; a killed node has no faults to heal
                      (info node "DELETE" kind "not answered:" (pr-str (dissoc a :body))))
                    (:status a)))))

(defn drop-grudge!
  "Applies a grudge; returns node -> the body sent."
  [test grudge]
  (let [bodies (grudge/bodies (:nodes test) (name->id test) grudge)]
    ; Replace, not add to, whatever partition was there: nodes with nothing
    ; to drop are healed.
    (on-all! test (fn [node]
                    (let [a (if-let [b (get bodies node)]
                              (api/admin test node "POST" "/admin/faults/partition" b)
                              (api/admin test node "DELETE" "/admin/faults/partition"))]
                      (cond (api/ok? a) :ok
                            ; a node that is down has no faults, and starts
                            ; again with none (contract section 4)
                            (= :refused (:error a)) (do (info node "down: not partitioned") :down)
                            ; a paused (SIGSTOPped) node takes the request
                            ; when it resumes
                            (= :timeout (:error a)) (do (info node "paused? partition request timed out")
                                                        :timeout)
                            :else (api/check! (str node " partition") a)))))
    bodies))

(defrecord Net [grudge]
  p/Net
  (drop! [net test src dest]
    ; one more cut on top of those made through this net
    (drop-grudge! test (swap! grudge update dest (fnil conj #{}) src)))
  (heal! [net test]
    (reset! grudge {})
    (delete-kind! test "partition"))
  (slow! [net test] (p/slow! net test {}))
  (slow! [net test {:keys [mean variance]}]
    (on-all! test #(api/check! (str % " slow")
                               (api/admin test % "POST" "/admin/faults/net"
                                          {"delay_ms"  (long (or mean 50))
                                           "jitter_ms" (long (or variance 50))}))))
  (flaky! [net test]
    (on-all! test #(api/check! (str % " flaky")
                               (api/admin test % "POST" "/admin/faults/net"
                                          {"drop_probability" 0.2}))))
  (fast! [net test]
    (delete-kind! test "net"))
  (shape! [net test nodes behavior]
    (if (and (empty? nodes) (empty? behavior))
      (delete-kind! test "net")
      (throw (ex-info "raftkv's net does not shape packets; use --nemesis partition"
                      {:type ::unsupported}))))

  p/PartitionAll
  (drop-all! [net test g]
    (reset! grudge (into {} (map (fn [[k v]] [k (set v)]) g)))
    (drop-grudge! test g)))

(defn net [] (->Net (atom {})))
