(defproject raftkv-jepsen "0.1.0"
  :description "Jepsen test for raftkv: register (Knossos) and list-append (Elle)
               over the node's HTTP API, faults through its admin API and fault
               agent (no SSH)."
  :license {:name "Eclipse Public License"
            :url  "http://www.eclipse.org/legal/epl-v10.html"}
  :dependencies [[org.clojure/clojure "1.12.5"]
                 [jepsen "0.3.13"]
                 [org.clojure/data.json "2.4.0"]]
  :main raftkv.main
  :jvm-opts ["-Djava.awt.headless=true" "-Xmx4g"]
  :repl-options {:init-ns raftkv.cli})
