(ns raftkv.main-test
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is]]
            [raftkv.main :as m]))

(deftest jdk-check
  (let [msg (m/jdk-problem 17 "/usr/lib/jvm/java-17")]
    (is (str/includes? msg "JDK 21 or later"))
    (is (str/includes? msg "this is JDK 17 at /usr/lib/jvm/java-17"))
    (is (str/includes? msg "JAVA_HOME")))
  (is (nil? (m/jdk-problem 21 "/x")))
  (is (nil? (m/jdk-problem 25 "/x")))
  (is (integer? (m/jdk-feature))))
