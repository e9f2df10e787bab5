(ns raftkv.grudge-test
  (:require [clojure.test :refer [deftest is testing]]
            [raftkv.grudge :as g]))

(def nodes ["n1" "n2" "n3" "n4" "n5"])
(def ids {"n1" 0 "n2" 1 "n3" 2 "n4" 3 "n5" 4})

(defn complete-grudge
  "Jepsen's complete grudge of components, written out here (this namespace
  must not load jepsen.*): every node drops every node of other components."
  [components]
  (into {} (for [c components, n c]
             [n (set (remove (set c) (apply concat components)))])))

(deftest majority-minority-split
  (let [b (g/bodies nodes ids (complete-grudge [["n1" "n2"] ["n3" "n4" "n5"]]))]
    (is (= {"groups" [[0 1] [2 3 4]]} (b "n1")))
    (is (= {"groups" [[0 1] [2 3 4]]} (b "n2")))
    (is (= {"groups" [[2 3 4] [0 1]]} (b "n4")))))

(deftest isolating-one-node
  (let [b (g/bodies nodes ids (complete-grudge [["n3"] ["n1" "n2" "n4" "n5"]]))]
    (is (= {"groups" [[2] [0 1 3 4]]} (b "n3")))
    (is (= {"groups" [[0 1 3 4] [2]]} (b "n1")))))

(deftest majorities-ring-is-per-node
  ; in a ring each node sees its two neighbours, so no two nodes share a view
  (let [ring {"n1" #{"n3" "n4"} "n2" #{"n4" "n5"} "n3" #{"n5" "n1"}
              "n4" #{"n1" "n2"} "n5" #{"n2" "n3"}}
        b (g/bodies nodes ids ring)]
    (is (= {"groups" [[0 1 4] [2 3]]} (b "n1")))
    (is (= {"groups" [[2 3 4] [0 1]]} (b "n4")))
    (is (= 5 (count (set (vals b)))))))

(deftest one-way-grudges-cut-both-ways
  (let [b (g/bodies nodes ids {"n1" #{"n2"}})]
    (is (= {"groups" [[0 2 3 4] [1]]} (b "n1")))
    (is (= {"groups" [[1 2 3 4] [0]]} (b "n2")))
    (is (nil? (b "n3")) "a node with nothing to drop gets no body")))

(deftest empty-grudge-cuts-nothing
  (is (= {} (g/bodies nodes ids {})))
  (is (= {} (g/bodies nodes ids {"n1" #{"n1"}})) "a node never cuts itself"))
