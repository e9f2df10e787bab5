(ns raftkv.edn-test
  "Pins what `raftkv-check --edn` writes, which is what Knossos and Elle read:
  one op map a line, keys [key value] tuples, an absent value as :absent
  (the cas-register model's initial value), types and fs as keywords."
  (:require [clojure.edn :as edn]
            [clojure.java.io :as io]
            [clojure.java.shell :refer [sh]]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]))

(def checker-bin
  (str (or (System/getenv "RAFTKV_BIN") "bin") "/raftkv-check"))

(def history
  [{:process 0 :type "invoke" :f "write" :key "k1" :value "1" :time 10}
   {:process 0 :type "ok"     :f "write" :key "k1" :value "1" :time 20}
   {:process 1 :type "invoke" :f "read"  :key "k1" :value nil :time 30}
   {:process 1 :type "ok"     :f "read"  :key "k1" :value "1" :time 40}
   {:process 2 :type "invoke" :f "read"  :key "k2" :value nil :time 50}
   {:process 2 :type "ok"     :f "read"  :key "k2" :value nil :time 60}
   {:process 3 :type "invoke" :f "cas"   :key "k2" :value [nil "x"] :time 70}
   {:process 3 :type "ok"     :f "cas"   :key "k2" :value [nil "x"] :time 80}
   {:process 4 :type "invoke" :f "cas"   :key "k2" :value ["y" "z"] :time 90}
   {:process 4 :type "fail"   :f "cas"   :key "k2" :value ["y" "z"] :error "mismatch" :time 100}
   {:process 5 :type "invoke" :f "write" :key "k1" :value "2" :time 110}
   {:process 5 :type "info"   :f "write" :key "k1" :value "2" :time 120}])

(defn- json-str [v]
  (cond (nil? v) "null"
        (string? v) (str "\"" v "\"")
        (vector? v) (str "[" (str/join "," (map json-str v)) "]")
        :else (str v)))

(defn- jsonl [ops]
  (str/join (for [o ops]
              (str "{" (str/join "," (for [[k v] o] (str "\"" (name k) "\":" (json-str v)))) "}\n"))))

(deftest edn-export
  (let [dir  (io/file (System/getProperty "java.io.tmpdir")
                      (str "raftkv-edn-" (System/nanoTime)))
        _    (.mkdirs dir)
        in   (io/file dir "h.jsonl")
        out  (io/file dir "h.edn")]
    (try
      (spit in (jsonl history))
      (let [r (sh checker-bin "--edn" (.getPath out) (.getPath in))]
        (is (= 0 (:exit r)) (str "raftkv-check: " (:out r) (:err r)))
        (let [ops (mapv edn/read-string (remove str/blank? (str/split-lines (slurp out))))]
          (is (= (count history) (count ops)))
          (testing "every op keeps its order, process, time, type and f"
            (is (= (range (count history)) (map :index ops)))
            (is (= (map :process history) (map :process ops)))
            (is (= (map :time history) (map :time ops)))
            (is (= (map (comp keyword :type) history) (map :type ops)))
            (is (= (map (comp keyword :f) history) (map :f ops))))
          (testing "values are [key value] tuples; absent is :absent, an invoked read nil"
            (is (= ["k1" "1"] (:value (ops 0))))
            (is (= ["k1" nil] (:value (ops 2))))
            (is (= ["k1" "1"] (:value (ops 3))))
            (is (= ["k2" :absent] (:value (ops 5))))
            (is (= ["k2" [:absent "x"]] (:value (ops 7)))))
          (testing "a cas mismatch is a fail with :error :mismatch"
            (is (= :mismatch (:error (ops 9)))))
          (testing "an unknown outcome stays :info"
            (is (= :info (:type (ops 11)))))))
      (finally
        (doseq [f (reverse (file-seq dir))] (.delete ^java.io.File f))))))
