(ns raftkv.answer-test
  (:require [clojure.test :refer [deftest is testing]]
            [raftkv.answer :as a]))

(deftest success-is-ok
  (is (= :ok (:type (a/outcome {:status 200 :body {"key" "k" "index" 3}} false))))
  (is (= {:type :ok, :absent? true}
         (a/outcome {:status 404 :body {"key" "k" "value" nil}} true))))

(deftest definite-failures-are-fail
  (doseq [s [400 404 405 413 503]]
    (is (= :fail (:type (a/outcome {:status s :body {"error" "x"}} false))) (str s)))
  (testing "an unknown path (404 without a value field) is not an absent key"
    (is (= :fail (:type (a/outcome {:status 404 :body {"error" "not found"}} true))))
    (is (nil? (:absent? (a/outcome {:status 404 :body {"error" "not found"}} true)))))
  (testing "cas mismatch carries the current value"
    (is (= {:type :fail, :error :mismatch, :current "3"}
           (a/outcome {:status 409 :body {"error" "cas mismatch" "value" "3"}} false))))
  (testing "nothing sent: fail even for a write"
    (is (= :fail (:type (a/outcome {:error :refused} false))))))

(deftest unknown-outcomes-are-info-for-writes
  (doseq [ans [{:status 504 :body {"error" "timeout"}}
               {:status 500 :body "oops"}
               {:status 502 :body nil}
               {:error :timeout}
               {:error :io}]]
    (is (= :info (:type (a/outcome ans false))) (pr-str ans))
    (testing "and fail for operations without effect"
      (is (= :fail (:type (a/outcome ans true))) (pr-str ans)))))

(deftest the-error-says-why
  (is (= [504 "timeout"] (:error (a/outcome {:status 504 :body {"error" "timeout"}} false))))
  (is (= [503 "no leader"] (:error (a/outcome {:status 503 :body {"error" "no leader"}} false))))
  (is (= :timeout (:error (a/outcome {:error :timeout} false)))))
