(ns raftkv.static-suite-test
  "The source checks of raftkv.static-suite catch what they claim to."
  (:require [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [deftest is]]
            [raftkv.static-suite :as s]))

(defn- problem-of [rel text]
  (let [root (io/file (System/getProperty "java.io.tmpdir") (str "raftkv-static-" (System/nanoTime)))
        f    (io/file root rel)]
    (io/make-parents f)
    (spit f text)
    (try (s/check-file root f)
         (finally (doseq [x (reverse (file-seq root))] (.delete ^java.io.File x))))))

(deftest source-checks
  (is (nil? (problem-of "src/raftkv/foo_bar.clj" "(ns raftkv.foo-bar)\n(defn f [] 1)\n")))
  (is (str/includes? (problem-of "src/raftkv/foo.clj" "(ns raftkv.foo)\n(defn f [] (inc 1)\n")
                     "does not read"))
  (is (str/includes? (problem-of "src/raftkv/foo.clj" "(ns raftkv.foo)\n(defn f [] 1))\n")
                     "does not read"))
  (is (str/includes? (problem-of "src/raftkv/foo.clj" "(ns raftkv.bar)\n")
                     "its path says raftkv.foo"))
  (is (str/includes? (problem-of "test/raftkv/foo.clj" "(defn f [] 1)\n")
                     "does not start with (ns"))
  (is (str/includes? (problem-of "project.clj" "(ns x)\n") "defproject"))
  (is (str/includes? (problem-of "src/raftkv/foo.clj" "(ns raftkv.foo)\n#=(java.lang.System/exit 1)\n")
                     "does not read")
      "nothing is evaluated while reading"))
