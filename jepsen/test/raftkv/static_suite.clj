(ns raftkv.static-suite
  "What `make test` checks of the Jepsen test where Jepsen cannot run: every
  .clj file under jepsen/ reads with Clojure's reader (syntax, balanced forms),
  its first form is (ns NAME) with NAME matching its path (project.clj: a
  defproject), and the pure namespaces' clojure.test suites pass. Runs on
  Debian's clojure with Debian's data.json; loads no jepsen.* namespace.

  Usage: clojure -cp jepsen/src:jepsen/test:DATA_JSON_JAR -m raftkv.static-suite JEPSEN_DIR
  Prints one line per check and ends with \"jepsen-static: N passed, N failed\"."
  (:require [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :as test])
  (:import (java.io File PushbackReader)))

(def pure-test-namespaces
  '[raftkv.answer-test raftkv.txn-test raftkv.targets-test raftkv.grudge-test
    raftkv.report-test raftkv.main-test raftkv.edn-test raftkv.membership-test
    raftkv.static-suite-test])

(defn clj-files [^File root]
  (->> (file-seq root)
       (filter #(.isFile ^File %))
       (filter #(str/ends-with? (.getName ^File %) ".clj"))
       (sort-by #(.getPath ^File %))))

(defn expected-ns
  "The namespace a file under src/ or test/ must declare, or nil for other files."
  [^File root ^File f]
  (let [rel (str/replace (str (.relativize (.toPath root) (.toPath f))) File/separator "/")
        [_ dir path] (re-matches #"(src|test)/(.+)\.clj" rel)]
    (when path
      (-> path (str/replace "/" ".") (str/replace "_" "-") symbol))))

(defn read-forms
  "Every top-level form of a file, read without evaluating anything."
  [^File f]
  (binding [*read-eval* false
            *ns* (create-ns 'raftkv.static-suite.reading)]
    (with-open [r (PushbackReader. (io/reader f))]
      (loop [forms []]
        (let [form (read {:eof ::eof, :read-cond :allow} r)]
          (if (= form ::eof) forms (recur (conj forms form))))))))

(defn check-file
  "nil when the file is fine, else a sentence saying what is wrong."
  [^File root ^File f]
  (try
    (let [forms (read-forms f)
          head  (first forms)
          want  (expected-ns root f)]
      (cond
        (empty? forms) "is empty"
        (= "project.clj" (.getName f))
        (when-not (and (seq? head) (= 'defproject (first head)))
          "does not start with (defproject ...)")
        (nil? want) "is neither project.clj nor under src/ or test/"
        (not (and (seq? head) (= 'ns (first head))))
        "does not start with (ns ...)"
        (not= want (second head))
        (str "declares (ns " (second head) ") but its path says " want)))
    (catch Exception e
      (str "does not read: " (.getMessage e)
           (when-let [c (.getCause e)] (str " (" (.getMessage c) ")"))))))

(defn -main [& [dir]]
  (let [root   (.getCanonicalFile (io/file (or dir "jepsen")))
        files  (clj-files root)
        read-results (for [f files]
                       (let [problem (check-file root f)]
                         (println (if problem "not ok" "ok") "read" (str (.relativize (.toPath root) (.toPath ^File f)))
                                  (or problem ""))
                         (nil? problem)))
        read-ok   (count (filter true? read-results))
        read-bad  (count (remove true? read-results))
        ; each deftest counts once: passed when it had no failure or error
        per-test (atom {})
        report   test/report]
    (when (empty? files)
      (println "not ok no .clj files under" (.getPath root)))
    (apply require pure-test-namespaces)
    (binding [test/report (fn [m]
                            (report m)
                            (when-let [t (first test/*testing-vars*)]
                              (case (:type m)
                                (:fail :error) (swap! per-test assoc t false)
                                :pass (swap! per-test update t #(if (false? %) false true))
                                nil)))]
      (apply test/run-tests pure-test-namespaces))
    (doseq [[v ok] (sort-by (comp str key) @per-test)]
      (println (if ok "ok" "not ok") "test" (str (:ns (meta v)) "/" (:name (meta v)))))
    (let [passed (+ read-ok (count (filter true? (vals @per-test))))
          failed (+ read-bad (count (remove true? (vals @per-test)))
                    (if (empty? files) 1 0))]
      (println (str "jepsen-static: " passed " passed, " failed " failed"))
      (shutdown-agents)
      (System/exit (if (zero? failed) 0 1)))))
