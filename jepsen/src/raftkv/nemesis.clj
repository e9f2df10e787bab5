(ns raftkv.nemesis
  "Fault packages (jepsen.nemesis.combined style: a nemesis, a generator, a
  final generator that heals, and perf bands), chosen with --nemesis:

    partition     Jepsen's stock partition package over raftkv.net: one
                  node, a minority third, majority/minority, a majorities
                  ring, the leader(s) isolated
    kill          SIGKILL through the agent, or POST /admin/faults/crash
                  {\"lose_unsynced\":true} (drops what was not fsynced); then
                  start again. amnesia: such a crash of a majority, restarted
                  at once while the minority is paused until the majority
                  has a leader
    pause         SIGSTOP / SIGCONT through the agent
    clock         bump, strobe, skew, freeze of a node's clock
                  (/admin/faults/clock), offsets reported for the clock plot
    disk          kill a node, bitflip or truncate its WAL or snapshot
                  through /agent/corrupt, start it (wiped if it cannot start)
    leader-freeze the leader's clock frozen while it is partitioned away
                  (what an unsafe clock-based lease cannot survive)
    member        membership changes through POST /admin/members: remove a
                  member, replace a --join member (remove, kill, wipe, start:
                  it rejoins as a new incarnation) or add back a node that is
                  out, at random, never below a majority of the members there
                  were at the start (raftkv.membership decides)"
  (:require [clojure.tools.logging :refer [info warn]]
            [clojure.set :as set]
            [dom-top.core :refer [real-pmap]]
            [jepsen [db :as db]
                    [generator :as gen]
                    [nemesis :as n]
                    [net :as net]]
            [jepsen.nemesis.combined :as nc]
            [raftkv.api :as api]
            [raftkv.membership :as m]))

(def all-faults [:partition :kill :pause :clock :disk])
(def known-faults (conj all-faults :leader-freeze :member))

(defn- on-nodes
  "node -> (f node), in parallel; exceptions become {:error message}."
  [nodes f]
  (into (sorted-map)
        (real-pmap (fn [node]
                     [node (try (f node)
                                (catch Exception e
                                  (warn e node "nemesis action failed")
                                  {:error (.getMessage e)}))])
                   nodes)))

(defn- pick [xs] (rand-nth (vec xs)))

;; ------------------------------------------------------------ kill

(defn- crash-lose-unsynced! [test node]
  (let [a (api/admin test node "POST" "/admin/faults/crash" {"lose_unsynced" true})]
    ; 202 = the node answered, then died; an I/O error here means it died
    ; before the answer left, which is the same outcome.
    (api/await-until (str node " to die") 10000
                     #(not= "running" (api/agent-state test node)))
    (if (:status a) :crashed-lose-unsynced :crashed-lose-unsynced-no-answer)))

(defn- leader-among
  "The leader that some node of nodes names, if it is one of nodes."
  [test nodes]
  (let [id->name (into {} (map (fn [[n t]] [(:id t) n]) (:targets test)))
        names    (set nodes)]
    (->> nodes
         (keep #(some-> (try (api/status test %) (catch Exception _ nil))
                        (get "leader") long id->name))
         (filter names)
         first)))

(def amnesia-hold-ms
  "How long the restarted majority runs alone once it has a leader."
  3000)

(defn- amnesia!
  "A power cut of a majority while the rest is too slow to help: pause the
  minority, crash a random majority losing what it never fsynced, start it
  again at once, and resume the minority only once the majority has elected a
  leader among itself and served for amnesia-hold-ms. With every write
  fsynced before it is acknowledged, a majority that lost nothing durable
  still holds every acknowledged write; under no_fsync it has lost all it
  wrote since it started, and it serves that loss at once, for the keys the
  clients are still using."
  [db test]
  (let [nodes    (shuffle (:nodes test))
        majority (take (inc (quot (count nodes) 2)) nodes)
        minority (drop (count majority) nodes)
        paused   (on-nodes minority #(db/pause! db test %))
        crashed  (on-nodes majority #(crash-lose-unsynced! test %))
        started  (on-nodes majority #(db/start! db test %))
        leader   (try (api/await-until "a leader among the restarted majority" 15000
                                       #(leader-among test majority))
                      (catch Exception _ nil))]
    (when leader (Thread/sleep amnesia-hold-ms))
    {:majority (vec (sort majority)), :minority (vec (sort minority)), :paused paused
     :crashed crashed, :started started, :leader (or (leader-among test majority) :none)
     :resumed (on-nodes minority #(db/resume! db test %))}))

(defn kill-nemesis [db]
  (reify
    n/Reflection
    (fs [_] #{:kill :crash :amnesia :start})
    n/Nemesis
    (setup! [this test] this)
    (invoke! [this test {:keys [f value] :as op}]
      (assoc op :value
             (case f
               :kill    (on-nodes (nc/db-nodes test db value) #(db/kill! db test %))
               :crash   (on-nodes (nc/db-nodes test db value) #(crash-lose-unsynced! test %))
               :amnesia (amnesia! db test)
               :start   (on-nodes (:nodes test) #(db/start! db test %)))))
    (teardown! [this test])))

(defn kill-package [{:keys [db interval kill-modes targets] :as opts}]
  (let [modes (or (seq kill-modes) [:kill :crash :amnesia])
        start {:type :info, :f :start, :value :all}
        kill  (fn [_ _] (let [f (pick modes)]
                          {:type :info, :f f
                           :value (if (= f :amnesia) :majority (pick targets))}))]
    {:generator       (->> (gen/flip-flop kill (gen/repeat start))
                           (gen/stagger interval))
     :final-generator start
     :nemesis         (kill-nemesis db)
     :perf            #{{:name "kill", :start #{:kill :crash :amnesia}, :stop #{:start}
                         :color "#E9A4A0"}}}))

;; ------------------------------------------------------------ pause

(defn pause-nemesis [db]
  (reify
    n/Reflection
    (fs [_] #{:pause :resume})
    n/Nemesis
    (setup! [this test] this)
    (invoke! [this test {:keys [f value] :as op}]
      (assoc op :value
             (case f
               :pause  (on-nodes (nc/db-nodes test db value) #(db/pause! db test %))
               :resume (on-nodes (:nodes test) #(db/resume! db test %)))))
    (teardown! [this test])))

(defn pause-package [{:keys [db interval targets]}]
  (let [resume {:type :info, :f :resume, :value :all}
        pause  (fn [_ _] {:type :info, :f :pause, :value (pick targets)})]
    {:generator       (->> (gen/flip-flop pause (gen/repeat resume))
                           (gen/stagger interval))
     :final-generator resume
     :nemesis         (pause-nemesis db)
     :perf            #{{:name "pause", :start #{:pause}, :stop #{:resume}
                         :color "#A0B1E9"}}}))

;; ------------------------------------------------------------ clock

(defn- offset-s
  "The node's clock offset in seconds from a faults object (0 when none)."
  [faults]
  (/ (double (or (get-in faults ["clock" "offset_ms"]) 0)) 1000.0))

(defn- clock! [test node body]
  (let [a (api/check! (str node " clock " body)
                      (api/admin test node "POST" "/admin/faults/clock" body))]
    (offset-s (get (:body a) "faults"))))

(defn- clock-reset! [test node]
  (let [a (api/admin test node "DELETE" "/admin/faults/clock")]
    (if (api/ok? a) (offset-s (get (:body a) "faults")) 0.0)))

(defn- clock-offset [test node]
  (offset-s (get (api/status test node) "faults")))

(defn clock-body
  "The /admin/faults/clock body for a clock op."
  [f rng]
  (case f
    :clock-bump   {"offset_ms" (* (if (.nextBoolean rng) 1 -1)
                                  (+ 100 (.nextInt rng 30000)))}
    :clock-strobe {"strobe" {"delta_ms"  (+ 100 (.nextInt rng 5000))
                             "period_ms" (+ 10 (.nextInt rng 500))}}
    :clock-skew   {"rate" (pick [0.1 0.5 0.9 1.5 3.0 10.0])}
    :clock-freeze {"freeze" true}))

(defn clock-nemesis [db]
  (let [rng (java.util.Random.)]
    (reify
      n/Reflection
      (fs [_] #{:clock-bump :clock-strobe :clock-skew :clock-freeze :clock-reset
                :check-clock-offsets})
      n/Nemesis
      (setup! [this test] this)
      (invoke! [this test {:keys [f value] :as op}]
        (let [offsets (case f
                        :check-clock-offsets (on-nodes (:nodes test) #(clock-offset test %))
                        :clock-reset (on-nodes (:nodes test) #(clock-reset! test %))
                        (on-nodes (nc/db-nodes test db value)
                                  #(clock! test % (clock-body f rng))))]
          (assoc op :clock-offsets (into {} (filter (comp number? val) offsets))
                 :value [value offsets])))
      (teardown! [this test]
        (on-nodes (:nodes test) #(clock-reset! test %))))))

(defn clock-package [{:keys [db interval targets]}]
  (let [reset {:type :info, :f :clock-reset, :value :all}
        start (fn [_ _] {:type :info
                         :f (pick [:clock-bump :clock-strobe :clock-skew :clock-freeze])
                         :value (pick targets)})]
    {:generator       (->> (gen/phases
                             {:type :info, :f :check-clock-offsets}
                             (gen/flip-flop start (gen/repeat reset)))
                           (gen/stagger interval))
     :final-generator reset
     :nemesis         (clock-nemesis db)
     :perf            #{{:name "clock", :start #{:clock-bump :clock-strobe :clock-skew :clock-freeze}
                         :stop #{:clock-reset}, :color "#A0E9E3"}}}))

;; ------------------------------------------------------------ disk

(defn- corrupt! [db test node {:keys [target mode count]}]
  (db/kill! db test node)
  (api/await-until (str node " down") 10000 #(not= "running" (api/agent-state test node)))
  (let [a (api/agent test node "POST" "/agent/corrupt"
                     {"target" target, "mode" mode, "count" count})]
    (db/start! db test node)
    (let [up? (try (api/await-until (str node " up after corruption") 15000
                                    #(api/ok? (api/admin test node "GET" "/healthz")))
                   true
                   (catch Exception _ false))]
      (if up?
        {:corrupt (:status a), :restarted true}
        ; The node refused its damaged files (checksums caught it): bring it
        ; back as a new incarnation, which catches up from its peers.
        (do (db/kill! db test node)
            (api/check! (str node " wipe") (api/agent test node "POST" "/agent/wipe"))
            (db/start! db test node)
            {:corrupt (:status a), :restarted false, :wiped true})))))

(defn disk-nemesis [db]
  (reify
    n/Reflection
    (fs [_] #{:corrupt})
    n/Nemesis
    (setup! [this test] this)
    (invoke! [this test {:keys [value] :as op}]
      (let [node (pick (:nodes test))]
        (assoc op :value {node (try (corrupt! db test node value)
                                    (catch Exception e
                                      (warn e node "disk fault")
                                      (db/start! db test node)
                                      {:error (.getMessage e)}))})))
    (teardown! [this test])))

(defn disk-package [{:keys [db interval]}]
  {:generator (->> (fn [_ _]
                     {:type :info, :f :corrupt
                      :value {:target (pick ["wal" "wal" "snapshot" "meta"])
                              :mode   (pick ["bitflip" "truncate"])
                              :count  (inc (rand-int 8))}})
                   (gen/stagger (* 2 interval)))
   :final-generator nil
   :nemesis   (disk-nemesis db)
   :perf      #{{:name "disk", :fs #{:corrupt}, :start #{}, :stop #{}, :color "#99F2E2"}}})

;; ------------------------------------------------------------ leader-freeze

(defn leader-freeze-nemesis [db]
  (let [frozen (atom nil)]
    (reify
      n/Reflection
      (fs [_] #{:freeze-isolate-leader :heal-leader})
      n/Nemesis
      (setup! [this test] this)
      (invoke! [this test {:keys [f] :as op}]
        (case f
          :freeze-isolate-leader
          (if-let [leader (first (db/primaries db test))]
            (let [offset (clock! test leader {"freeze" true})
                  others (remove #{leader} (:nodes test))]
              (reset! frozen leader)
              (net/drop-all! test (n/complete-grudge [[leader] others]))
              (assoc op :value leader :clock-offsets {leader offset}))
            (assoc op :value :no-leader))
          :heal-leader
          (do (net/heal! (:net test) test)
              (let [offsets (on-nodes (:nodes test) #(clock-reset! test %))]
                (reset! frozen nil)
                (assoc op :value :healed
                       :clock-offsets (into {} (filter (comp number? val) offsets)))))))
      (teardown! [this test]
        (net/heal! (:net test) test)
        (on-nodes (:nodes test) #(clock-reset! test %))))))

(defn leader-freeze-package [{:keys [db interval]}]
  (let [heal {:type :info, :f :heal-leader}]
    ; A bare op map is a generator of one op: flip-flop would stop after the
    ; first freeze and its heal, one isolation per run whatever its length.
    {:generator       (->> (gen/flip-flop (gen/repeat {:type :info, :f :freeze-isolate-leader})
                                          (gen/repeat heal))
                           (gen/stagger interval))
     :final-generator heal
     :nemesis         (leader-freeze-nemesis db)
     :perf            #{{:name "leader-freeze", :start #{:freeze-isolate-leader}
                         :stop #{:heal-leader}, :color "#C9A0E9"}}}))

;; ------------------------------------------------------------ member

(def member-heal-timeout-ms
  "How long healing waits for every node to be a voter again and ready."
  90000)

(defn- member-view
  "raftkv.membership's view of the cluster, from every node's status now."
  [test]
  (m/view (into {} (map (fn [[node st]] [node (when-not (contains? st :error) st)]))
                (on-nodes (:nodes test) #(api/status test %)))))

(defn- answer-of
  "What to record of an HTTP answer: its status, or the client error."
  [a]
  (or (:status a) (:error a)))

(defn- change!
  "POST /admin/members to the view's leader; the answer's status."
  [test v body]
  (answer-of (api/change-members test (:leader v) body)))

(defn- rejoin!
  "The replaced node comes back empty: kill it, wipe its data dir (the agent
  wipes only a node that is down: asked again while it is still being
  reaped), start it; with --join it asks to be added again by itself."
  [db test node]
  (let [kill  (answer-of (api/agent test node "POST" "/agent/kill"))
        down  (try (api/await-until (str node " down") 10000
                                    #(not= "running" (api/agent-state test node)))
                   true
                   (catch Exception _ false))
        wipe  (loop [tries 0]
                (let [w (answer-of (api/agent test node "POST" "/agent/wipe"))]
                  (if (or (= 200 w) (>= tries 20))
                    w
                    (do (Thread/sleep 100) (recur (inc tries))))))
        start (try (db/start! db test node)
                   (catch Exception e {:error (.getMessage e)}))]
    {:kill kill, :down down, :wipe wipe, :start start}))

(defn- member-change!
  "One random change (raftkv.membership/choose), or a skip when none is
  possible; returns what was done, for the op's :value."
  [db test orig]
  (let [v      (member-view test)
        choice (m/choose v orig rand-nth)]
    (if-not choice
      {:change :none, :view (m/summary v)}
      (let [{change :op, node :node} choice
            nv     (get-in v [:nodes node])
            body   (m/body change nv)
            answer (change! test v body)]
        (info "member:" (name change) node "through" (:leader v) "->" answer)
        (cond-> {:change change, :node node, :id (:id nv), :leader (:leader v)
                 :body body, :answer answer, :before (m/summary v)}
          (and (= change :replace) (= 200 answer)) (merge (rejoin! db test node)))))))

(defn- ready-all?
  [test]
  (every? true? (vals (on-nodes (:nodes test) #(api/ready? test %)))))

(defn member-heal!
  "Adds back every node of the test that is out, until each one is a voter
  of the leader's configuration and answers /readyz, or the timeout passes.
  A node that is still rejoining by itself (a replaced one) is waited for."
  [test timeout-ms]
  (let [deadline (+ (System/currentTimeMillis) timeout-ms)]
    (loop [added []]
      (let [v     (member-view test)
            whole (m/whole? v (:nodes test))
            ready (and whole (ready-all? test))]
        (if (or ready (> (System/currentTimeMillis) deadline))
          (do (when-not ready
                (warn "member heal: the cluster is not whole after" timeout-ms "ms:"
                      (pr-str (m/summary v))))
              {:whole whole, :ready ready, :added added, :view (m/summary v)})
          (let [adds (m/heal-adds v (:nodes test))
                done (mapv (fn [node]
                             [node (change! test v (m/body :add (get-in v [:nodes node])))])
                           adds)]
            (Thread/sleep 500)
            (recur (into added done))))))))

(defn member-nemesis
  "Membership changes; :member makes one, :member-heal adds everyone back.
  The majority guard counts from the voters there were at setup, after
  adding back whatever an earlier test left out."
  [db]
  (let [orig (atom nil)]
    (reify
      n/Reflection
      (fs [_] #{:member :member-heal})
      n/Nemesis
      (setup! [this test]
        (let [healed (member-heal! test member-heal-timeout-ms)
              v      (member-view test)
              size   (if (:leader v) (count (:voters v)) (count (:nodes test)))]
          (info "member nemesis: starting with" size "voters;" (pr-str healed))
          (reset! orig size)
          this))
      (invoke! [this test {:keys [f] :as op}]
        (assoc op :value
               (case f
                 :member      (assoc (member-change! db test @orig)
                                     :floor (m/majority @orig))
                 :member-heal (member-heal! test member-heal-timeout-ms))))
      (teardown! [this test]))))

(defn member-package [{:keys [db interval]}]
  {:generator       (->> (gen/repeat {:type :info, :f :member})
                         (gen/stagger interval))
   :final-generator {:type :info, :f :member-heal}
   :nemesis         (member-nemesis db)
   :perf            #{{:name "member", :fs #{:member :member-heal}, :start #{}, :stop #{}
                       :color "#E9D8A0"}}})

;; ------------------------------------------------------------ composition

(defn package
  "The combined package for opts {:faults #{...} :db :interval (s)
  :targets [node-spec ...] :kill-modes [:kill :crash] :partition-targets}."
  [{:keys [faults] :as opts}]
  (let [faults (set faults)
        pkgs (cond-> []
               (faults :partition)
               (conj (nc/partition-package
                       {:faults #{:partition}, :db (:db opts), :interval (:interval opts)
                        :partition {:targets (or (seq (:partition-targets opts))
                                                 [:one :minority-third :majority
                                                  :majorities-ring :primaries])}}))
               (faults :kill)          (conj (kill-package opts))
               (faults :pause)         (conj (pause-package opts))
               (faults :clock)         (conj (clock-package opts))
               (faults :disk)          (conj (disk-package opts))
               (faults :leader-freeze) (conj (leader-freeze-package opts))
               (faults :member)        (conj (member-package opts)))]
    (nc/compose-packages pkgs)))
