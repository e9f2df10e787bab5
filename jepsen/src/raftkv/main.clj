(ns raftkv.main
  "Entry point. Checks the JDK before loading Jepsen: Jepsen 0.3.13 needs JDK
  21 or later (its dom-top uses virtual threads), and on an older JDK it would
  fail to load with an obscure compiler error instead of saying so."
  (:gen-class))

(def min-jdk 21)

(defn jdk-feature
  "The running JDK's feature release (17, 21, 25, ...)."
  []
  (.feature (Runtime/version)))

(defn jdk-problem
  "nil when JDK feature release v can run Jepsen, else the message to print."
  [v java-home]
  (when (< v min-jdk)
    (str "raftkv-jepsen needs JDK " min-jdk " or later (Jepsen 0.3.13 uses "
         "virtual threads); this is JDK " v " at " java-home
         ". Set JAVA_HOME to a JDK " min-jdk "+ and try again.")))

(defn -main [& args]
  (when-let [msg (jdk-problem (jdk-feature) (System/getProperty "java.home"))]
    (binding [*out* *err*] (println msg))
    (System/exit 3))
  (apply (requiring-resolve 'raftkv.cli/-main) args))
