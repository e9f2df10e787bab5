(ns raftkv.report
  "One line per test for the test-all table: workload, nemesis, bug, nodes,
  ops, valid?, anomalies. Pure: no jepsen.* here."
  (:require [clojure.string :as str]))

(defn anomalies
  "A short description of what the checkers found, from a results map."
  [results]
  (let [w    (:workload results)
        elle (some->> (:anomaly-types w) (map name) sort (str/join ","))
        keys (when (and (= false (:valid? w)) (seq (:failures w)))
               (str (count (:failures w)) " key(s) not linearizable"))
        exc  (when (= false (:valid? (:exceptions results)))
               "unhandled exceptions")
        other (->> (dissoc results :valid? :workload)
                   (keep (fn [[k v]] (when (and (map? v) (= false (:valid? v))
                                                (not= k :exceptions))
                                       (name k))))
                   sort)
        parts (concat (remove nil? [elle keys exc])
                      (map #(str % " invalid") other))]
    (if (seq parts) (str/join "; " parts) "-")))

(defn row
  "A table row from a finished test's options and results."
  [{:keys [workload nemesis-spec bug nodes]} results]
  {:workload  (name workload)
   :nemesis   nemesis-spec
   :bug       (or bug "-")
   :nodes     (count nodes)
   :ops       (get-in results [:stats :count] "?")
   :valid?    (let [v (:valid? results)] (if (keyword? v) (name v) (str v)))
   :anomalies (anomalies results)})

(def columns [:workload :nemesis :bug :nodes :ops :valid? :anomalies])

(defn markdown
  "A markdown table of rows."
  [rows]
  (let [cell (fn [r c] (str/replace (str (get r c)) "|" "\\|"))
        line (fn [cells] (str "| " (str/join " | " cells) " |"))]
    (str/join "\n"
              (concat [(line (map name columns))
                       (line (map (constantly "---") columns))]
                      (map (fn [r] (line (map #(cell r %) columns))) rows)))))
