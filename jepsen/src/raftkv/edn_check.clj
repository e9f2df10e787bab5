(ns raftkv.edn-check
  "Checks histories that `raftkv-check --edn` exported, with Knossos itself:
  each key's operations (read, write, cas) against a cas-register whose
  initial value is :absent. This is how the EDN export was verified against
  the assembled Knossos (see jepsen/README.md).

  Usage: java -cp ... clojure.main -m raftkv.edn-check FILE.edn ...
  Prints `FILE valid?` per file; exits 0 when all are linearizable, 1 if any
  is not, 2 on unreadable input."
  (:require [clojure.edn :as edn]
            [clojure.string :as str]
            [jepsen.history :as h]
            [knossos.competition :as competition]
            [knossos.model :as model]))

(defn read-edn-history [file]
  (->> (str/split-lines (slurp file))
       (remove str/blank?)
       (mapv edn/read-string)))

(defn by-key
  "key -> that key's ops, with the key taken off the value, re-indexed."
  [ops]
  (->> ops
       (group-by (comp first :value))
       (map (fn [[k ops]]
              [k (->> ops
                      (map-indexed (fn [i op] (assoc op :index i :value (second (:value op)))))
                      vec)]))
       (into (sorted-map))))

(defn check-file
  "{key verdict} and :valid? for one exported history."
  [file]
  (let [results (into (sorted-map)
                      (for [[k ops] (by-key (read-edn-history file))]
                        [k (:valid? (competition/analysis (model/cas-register :absent)
                                                          (h/history ops {:have-indices? true})))]))]
    {:valid? (every? true? (vals results)), :keys results}))

(defn -main [& files]
  (let [verdicts (doall (for [f files]
                          (let [{:keys [valid? keys]} (check-file f)]
                            (println f valid? (pr-str keys))
                            valid?)))]
    ; No shutdown-agents first: Knossos' losing search may still be running
    ; and hand work to the agent pool, which then prints a
    ; RejectedExecutionException after the verdicts. Exit stops it.
    (System/exit (if (every? true? verdicts) 0 1))))
