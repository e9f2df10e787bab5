(ns raftkv.txn-test
  (:require [clojure.test :refer [deftest is testing]]
            [raftkv.txn :as t]))

(deftest register-values
  (is (= :absent (t/register-value nil)))
  (is (= 3 (t/register-value "3")))
  (is (nil? (t/register-body :absent)))
  (is (= "4" (t/register-body 4)))
  (is (= {"from" nil "to" "2"} (t/cas-body [:absent 2])))
  (is (= {"from" "1" "to" "2"} (t/cas-body [1 2]))))

(deftest run-prefixes-differ-by-run-and-workload
  (is (= "r17-" (t/run-prefix :register 17)))
  (is (= "a17-" (t/run-prefix :append 17)))
  (is (not= (t/run-prefix :append 17) (t/run-prefix :append 18))))

(deftest txn-encoding
  (is (= {"ops" [["r" "p-3" nil] ["append" "p-3" "7 "] ["append" "p-1" "8 "]]}
         (t/encode-txn "p-" [[:r 3 nil] [:append 3 7] [:append 1 8]])))
  (is (t/read-only? [[:r 1 nil] [:r 2 nil]]))
  (is (not (t/read-only? [[:r 1 nil] [:append 2 3]]))))

(deftest txn-decoding
  (testing "reads filled in, appends kept, absent is nil"
    (is (= [[:r 3 [1 2 7]] [:append 3 9] [:r 4 nil]]
           (t/decode-txn [[:r 3 nil] [:append 3 9] [:r 4 nil]]
                         {"ops" [["r" "p-3" "1 2 7 "] ["append" "p-3" "9 "] ["r" "p-4" nil]]
                          "index" 12}))))
  (testing "an empty string is an empty list"
    (is (= [[:r 1 []]] (t/decode-txn [[:r 1 nil]] {"ops" [["r" "p-1" ""]]}))))
  (testing "an answer that does not match the request is refused"
    (is (thrown? clojure.lang.ExceptionInfo
                 (t/decode-txn [[:r 1 nil] [:r 2 nil]] {"ops" [["r" "p-1" nil]]})))
    (is (thrown? clojure.lang.ExceptionInfo
                 (t/decode-txn [[:r 1 nil]] {"ops" [["append" "p-1" "1 "]]})))
    (is (thrown? clojure.lang.ExceptionInfo (t/decode-txn [[:r 1 nil]] {"error" "x"})))))

(deftest round-trip-of-a-list
  (let [xs [5 1 99 3]
        stored (apply str (map #(str % " ") xs))]
    (is (= xs (t/decode-list stored)))))
