(ns raftkv.targets-test
  (:require [clojure.test :refer [deftest is testing]]
            [raftkv.targets :as t]))

(defn- no-file [path] (throw (java.io.FileNotFoundException. path)))

(deftest compose-cluster-matches-docker-compose-ports
  (let [m (t/resolve-spec "compose" no-file)]
    (is (= ["n1" "n2" "n3"] (t/node-names m)))
    (is (= {:name "n1" :id 0 :http "http://127.0.0.1:12021" :agent "http://127.0.0.1:12041"}
           (m "n1")))
    (is (= "http://127.0.0.1:12023" (:http (m "n3")))))
  (is (= 5 (count (t/resolve-spec "compose:5" no-file))))
  (is (= {:name "n2" :id 1 :http "http://n2:2020" :agent "http://n2:2040"}
         ((t/resolve-spec "compose-network" no-file) "n2"))))

(deftest local-cluster-matches-tests-cluster-sh
  (let [m (t/resolve-spec "local" no-file)]
    (is (= ["n1" "n2" "n3"] (t/node-names m)))
    (is (= "http://127.0.0.1:2020" (:http (m "n1"))))
    (is (= "http://127.0.0.1:2042" (:agent (m "n3")))))
  (let [m (t/resolve-spec "local:24000:5" no-file)]
    (is (= 5 (count m)))
    (is (= {:name "n5" :id 4 :http "http://127.0.0.1:24004" :agent "http://127.0.0.1:24024"}
           (m "n5")))))

(deftest bad-specs-say-why
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"BASE" (t/resolve-spec "local:x" no-file)))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"N must" (t/resolve-spec "compose:0" no-file)))
  (is (thrown? java.io.FileNotFoundException (t/resolve-spec "nonexistent-file" no-file))))

(deftest targets-files
  (let [text "# name id http agent\nalpha 0 http://10.0.0.1:2020 http://10.0.0.1:2040\n\nbeta 1 http://10.0.0.2:2020/ http://10.0.0.2:2040 # trailing\n"
        m (t/resolve-spec "my.targets" (constantly text))]
    (is (= ["alpha" "beta"] (t/node-names m)))
    (is (= "http://10.0.0.2:2020" (:http (m "beta"))) "a trailing slash is dropped")
    (is (= {0 "alpha" 1 "beta"} (t/id->name m))))
  (testing "errors name the line"
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"line 2"
                          (t/parse-file-text "a 0 http://h:1 http://h:2\nb 1 http://h:3\n")))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"line 1.*integer"
                          (t/parse-file-text "a x http://h:1 http://h:2\n")))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"not an http URL"
                          (t/parse-file-text "a 0 h:1 http://h:2\n")))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"same id"
                          (t/parse-file-text "a 0 http://h:1 http://h:2\nb 0 http://h:3 http://h:4\n")))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"twice"
                          (t/parse-file-text "a 0 http://h:1 http://h:2\na 1 http://h:3 http://h:4\n")))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"no node" (t/parse-file-text "# empty\n")))))
