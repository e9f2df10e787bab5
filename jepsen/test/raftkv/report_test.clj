(ns raftkv.report-test
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [raftkv.report :as r]))

(def opts {:workload :append :nemesis-spec "partition" :bug "stale_reads"
           :nodes ["n1" "n2" "n3" "n4" "n5"]})

(deftest rows-from-results
  (is (= {:workload "append" :nemesis "partition" :bug "stale_reads" :nodes 5 :ops 1234
          :valid? "false" :anomalies "G-single-item,G1c"}
         (r/row opts {:valid? false, :stats {:count 1234 :valid? true}
                      :workload {:valid? false :anomaly-types [:G1c :G-single-item]}})))
  (is (= "2 key(s) not linearizable"
         (:anomalies (r/row (assoc opts :workload :register)
                            {:valid? false :workload {:valid? false :failures [1 7]}}))))
  (is (= "-" (:anomalies (r/row opts {:valid? true :workload {:valid? true}}))))
  (is (= "unknown" (:valid? (r/row opts {:valid? :unknown}))))
  (testing "other invalid checkers are named"
    (is (= "stats invalid"
           (:anomalies (r/row opts {:valid? false :workload {:valid? true}
                                    :stats {:valid? false}}))))))

(deftest markdown-table
  (let [t (r/markdown [(r/row opts {:valid? true :stats {:count 3}})])
        lines (str/split-lines t)]
    (is (= 3 (count lines)))
    (is (= "| workload | nemesis | bug | nodes | ops | valid? | anomalies |" (first lines)))
    (is (= "| append | partition | stale_reads | 5 | 3 | true | - |" (nth lines 2)))))
