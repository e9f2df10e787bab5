(ns raftkv.cli
  "The command line: `test` (one test), `test-all` (the matrix workload x
  nemesis x bug, ending with a table of verdicts), `serve` (the web UI over
  store/) and `analyze`. Run through raftkv.main, which checks the JDK first."
  (:require [clojure.string :as str]
            [clojure.tools.logging :refer [info warn]]
            [clojure.pprint :refer [pprint]]
            [jepsen [checker :as checker]
                    [cli :as cli]
                    [core :as jepsen]
                    [generator :as gen]
                    [os :as os]
                    [tests :as tests]]
            [jepsen.checker.timeline :as timeline]
            [jepsen.tests.cycle.core :as cycle-core]
            [raftkv [append :as append]
                    [db :as rdb]
                    [nemesis :as nemesis]
                    [net :as rnet]
                    [register :as register]
                    [report :as report]
                    [targets :as targets]
                    [txn :as t]]))

(def workloads {:register register/workload, :append append/workload})
(def bugs #{"stale_reads" "lease_reads" "no_fsync" "ack_before_commit"})

(defn parse-nemesis
  "\"none\" | \"all\" | a comma list -> a set of fault keywords."
  [s]
  (case s
    ("none" "") #{}
    "all"       (set nemesis/all-faults)
    (set (map keyword (str/split s #",")))))

(defn- comma-keywords [s] (mapv keyword (remove str/blank? (str/split s #","))))

(defn raftkv-test
  "A test map from parsed options."
  [opts]
  (let [workload (:workload opts)
        faults   (:nemesis opts)
        tmap     (:targets opts)
        nodes    (targets/node-names tmap)
        opts     (assoc opts :nodes nodes)
        w        ((workloads workload) opts)
        db       (rdb/db)
        pkg      (nemesis/package {:faults            faults
                                   :db                db
                                   :interval          (:nemesis-interval opts)
                                   :targets           (:fault-targets opts)
                                   :kill-modes        (:kill-modes opts)
                                   :partition-targets (:partition-targets opts)})
        main-gen (->> (:generator w)
                      (gen/stagger (/ 1 (:rate opts)))
                      (gen/nemesis (:generator pkg))
                      (gen/time-limit (:time-limit opts)))
        final    (:final-generator w)
        gen      (gen/phases main-gen
                             (gen/log "Healing every fault")
                             (gen/nemesis (:final-generator pkg))
                             (gen/log "Waiting for the cluster to recover")
                             (gen/sleep (:recovery-time opts))
                             (when final (gen/clients final)))
        gen      (if-let [wrap (:wrap-generator w)] (wrap gen) gen)]
    (merge tests/noop-test
           opts
           {:name         (str "raftkv " (name workload) " " (:nemesis-spec opts)
                               (when-let [b (:bug opts)] (str " bug=" b)))
            ; never SSH: nodes are reached through their agents (--no-ssh
            ; is accepted and changes nothing)
            :ssh          (assoc (:ssh opts) :dummy? true)
            :os           os/noop
            :db           db
            :net          (rnet/net)
            :key-prefix   (t/run-prefix workload (System/currentTimeMillis))
            :client       (:client w)
            :nemesis      (:nemesis pkg)
            :plot         {:nemeses (:perf pkg)}
            :checker      (checker/compose
                            {:perf       (checker/perf {:nemeses (:perf pkg)})
                             :clock      (checker/clock-plot)
                             :stats      (checker/stats)
                             :exceptions (checker/unhandled-exceptions)
                             :timeline   (timeline/html)
                             :workload   (:checker w)})
            :generator    gen})))

(def opt-spec
  [[nil "--workload NAME" "register or append"
    :default :register
    :parse-fn keyword
    :validate [workloads "must be register or append"]]
   [nil "--nemesis FAULTS" (str "none, all, or a comma list of "
                                (str/join ", " (map name nemesis/known-faults)))
    :default #{}
    :parse-fn parse-nemesis
    :validate [#(every? (set nemesis/known-faults) %)
               (str "faults are " (str/join ", " (map name nemesis/known-faults)))]]
   [nil "--nemesis-interval SECONDS" "seconds between fault operations"
    :default 10
    :parse-fn #(Double/parseDouble %)
    :validate [pos? "must be positive"]]
   [nil "--bug NAME" (str "turn one bug switch on for the run: " (str/join ", " (sort bugs)))
    :validate [bugs (str "must be one of " (str/join ", " (sort bugs)))]]
   [nil "--targets SPEC" "compose[:N], compose-network[:N], local[:BASE[:N]] or a targets file (see jepsen/README.md)"
    :default "local"]
   [nil "--admin-token TOKEN" "bearer token for /admin and /agent (default $RAFTKV_ADMIN_TOKEN)"
    :default (System/getenv "RAFTKV_ADMIN_TOKEN")]
   [nil "--fault-targets SPECS" "node specs for kill, pause and clock: comma list of one, minority, majority, all, primaries"
    :default [:one :minority :majority :primaries]
    :parse-fn comma-keywords]
   [nil "--kill-modes MODES" "kill (SIGKILL via the agent), crash (lose_unsynced crash), amnesia (lose_unsynced crash of a majority, the rest paused): comma list"
    :default [:kill :crash :amnesia]
    :parse-fn comma-keywords
    :validate [#(every? #{:kill :crash :amnesia} %) "modes are kill, crash and amnesia"]]
   [nil "--partition-targets SPECS" "one, minority-third, majority, majorities-ring, primaries: comma list"
    :default nil
    :parse-fn comma-keywords]
   [nil "--rate HZ" "client operations per second (all clients together)"
    :default 100
    :parse-fn #(Double/parseDouble %)
    :validate [pos? "must be positive"]]
   [nil "--request-timeout-ms MS" "client request timeout; beyond it the outcome is unknown"
    :default 5000
    :parse-fn #(Long/parseLong %)]
   [nil "--recovery-time SECONDS" "pause after healing, before final reads"
    :default 10
    :parse-fn #(Long/parseLong %)]
   [nil "--final-time SECONDS" "register: after healing and --recovery-time, the workload runs this long more, fault-free, on new keys (0: none)"
    :default 10
    :parse-fn #(Long/parseLong %)
    :validate [#(not (neg? %)) "must be 0 or more"]]
   [nil "--ops-per-key N" "register: operations on one key before moving to the next"
    :default 200
    :parse-fn #(Long/parseLong %)]
   [nil "--unknown-per-key N" "register: a key moves on once this many of its operations ended with an unknown outcome (bounds Knossos' search)"
    :default 10
    :parse-fn #(Long/parseLong %)
    :validate [pos? "must be positive"]]
   [nil "--read-weight N" "register: reads drawn for each write and each cas (1: a third of the ops are reads)"
    :default 1
    :parse-fn #(Long/parseLong %)
    :validate [pos? "must be positive"]]
   [nil "--key-count N" "append: keys in flight at once"
    :default 10
    :parse-fn #(Long/parseLong %)]
   [nil "--results-file FILE" "append one EDN line per finished test (the table row)"]])

(defn opt-fn
  "Resolves --targets first, so that the Jepsen node list is the targets'
  names before Jepsen's own option handling (which computes e.g. --concurrency
  1n from it), and names the nemesis choice for reports."
  [parsed]
  (let [o (:options parsed)
        resolved (try
                   (let [t (targets/resolve-spec (:targets o) slurp)]
                     (assoc parsed :options
                            (assoc o
                                   :targets t
                                   :nodes (targets/node-names t)
                                   :node nil
                                   :nodes-file nil
                                   :nemesis-spec (if (empty? (:nemesis o))
                                                   "none"
                                                   (str/join "," (map name (sort (:nemesis o))))))))
                   (catch clojure.lang.ExceptionInfo e
                     (update parsed :errors (fnil conj []) (.getMessage e)))
                   (catch java.io.IOException e
                     (update parsed :errors (fnil conj []) (str "--targets: " (.getMessage e)))))]
    (if (seq (:errors resolved))
      resolved
      (cli/test-opt-fn resolved))))

(defn- run-one!
  "Runs a test; returns [test-options results-row]."
  [opts]
  (let [test   (jepsen/run! (raftkv-test opts))
        row    (report/row opts (:results test))]
    (when-let [f (:results-file opts)]
      (spit f (str (pr-str (assoc row :store (str (:start-time test)))) "\n") :append true))
    [test row]))

(defn test-cmd
  "Like jepsen.cli/single-test-cmd, plus a table row at the end."
  []
  (let [base (cli/single-test-cmd {:test-fn raftkv-test, :opt-spec opt-spec, :opt-fn* opt-fn})]
    (assoc-in base ["test" :run]
              (fn [{:keys [options]}]
                (info "Test options:\n" (with-out-str (pprint (dissoc options :targets))))
                (let [rows (doall (for [_ (range (:test-count options))]
                                    (second (run-one! options))))]
                  (println)
                  (println (report/markdown rows))
                  (let [vs (set (map :valid? rows))]
                    (System/exit (cond (vs "false") 1
                                       (every? #{"true"} vs) 0
                                       :else 2))))))))

(def test-all-opt-spec
  [[nil "--workloads LIST" "comma list of workloads" :default "register,append"]
   [nil "--nemeses LIST" "comma list of nemesis choices; join faults with + (partition+kill)"
    :default "none,partition,kill,pause,clock,all"]
   [nil "--bugs LIST" "comma list of bug switches, none for all switches off"
    :default "none"]])

(defn test-all-cmd []
  {"test-all"
   {:opt-spec (cli/merge-opt-specs cli/test-opt-spec
                                   (into (vec (remove #(#{"--workload WORKLOAD" "--nemesis FAULTS" "--bug NAME"} (second %)) opt-spec))
                                         test-all-opt-spec))
    :opt-fn   opt-fn
    :usage    "Runs workload x nemesis x bug and prints a table of verdicts."
    :run      (fn [{:keys [options]}]
                (let [split (fn [s] (remove str/blank? (str/split s #",")))
                      rows (doall
                             (for [w (split (:workloads options))
                                   n (split (:nemeses options))
                                   b (split (:bugs options))
                                   _ (range (:test-count options))]
                               (let [faults (parse-nemesis (str/replace n "+" ","))
                                     o (assoc options
                                              :workload (keyword w)
                                              :nemesis faults
                                              :nemesis-spec n
                                              :bug (when-not (= b "none") b))]
                                 (try (second (run-one! o))
                                      (catch Exception e
                                        (warn e "test crashed")
                                        (let [row (assoc (report/row o {:valid? :crashed})
                                                         :anomalies (str "crashed: " (.getMessage e)))]
                                          (when-let [f (:results-file o)]
                                            (spit f (str (pr-str row) "\n") :append true))
                                          row))))))]
                  (println)
                  (println (report/markdown rows))
                  (let [vs (set (map :valid? rows))]
                    (System/exit (cond (vs "crashed") 255
                                       (vs "false") 1
                                       (every? #{"true"} vs) 0
                                       :else 2)))))}})

(defn -main [& args]
  (cli/run! (merge (test-cmd)
                   (test-all-cmd)
                   (cli/serve-cmd))
            args))
