(ns raftkv.membership-test
  (:require [clojure.test :refer [deftest is testing]]
            [raftkv.membership :as m]))

;; Five nodes as jepsen/local.sh starts them for the member nemesis: n1-n3
;; bootstrap with --cluster (ids 0-2), n4 and n5 joined with --join (ids 3, 4).
(def names ["n1" "n2" "n3" "n4" "n5"])
(def name->id (zipmap names (range)))
(def id->name (zipmap (range) names))
(defn- join? [id] (>= id 3))

(defn- status
  "What /admin/status says on node id, given the configuration it holds
  (id -> voter?), its membership and whether it leads."
  [id conf membership leader? & {:keys [term incarnation raft]
                                 :or {term 3, incarnation "0", raft :default}}]
  {"id" id, "role" (if leader? "leader" "follower"), "term" term
   "raft" (if (= raft :default) (str "127.0.0.1:" (+ 3030 id)) raft)
   "http" (str "127.0.0.1:" (+ 2020 id))
   "members" (vec (for [[i voter] (sort conf)] {"id" i, "voter" voter}))
   "incarnation" incarnation, "membership" membership
   "removed" (= membership "removed"), "join" (join? id)})

(def full-conf (zipmap (range 5) (repeat true)))

(defn- full-statuses []
  (into {} (for [n names :let [id (name->id n)]]
             [n (status id full-conf "voter" (= id 1))])))

(deftest majority-of-the-original-size
  (is (= 3 (m/majority 5)))
  (is (= 3 (m/majority 4)))
  (is (= 2 (m/majority 3)))
  (is (= 1 (m/majority 1))))

(deftest the-leader-is-the-one-of-the-highest-term
  (let [s (assoc (full-statuses)
                 "n3" (status 2 full-conf "voter" true :term 2)
                 "n5" nil)]
    (is (= "n2" (m/leader s))))
  (is (= "n3" (m/leader (assoc (full-statuses) "n3" (status 2 full-conf "voter" true :term 9)))))
  (testing "no node says it leads, or none answers"
    (is (nil? (m/leader (dissoc (full-statuses) "n2"))))
    (is (nil? (m/leader {"n1" nil "n2" nil})))))

(deftest a-whole-cluster-can-lose-anyone-but-gain-no-one
  (let [v (m/view (full-statuses))
        c (m/candidates v 5)]
    (is (= "n2" (:leader v)))
    (is (= #{0 1 2 3 4} (:members v) (:voters v)))
    (is (= names (:remove c)))
    (is (= ["n4" "n5"] (:replace c)) "only --join nodes are replaced")
    (is (= [] (:add c)))
    (is (m/whole? v names))
    (is (= [] (m/heal-adds v names)))))

(deftest never-below-a-majority-of-the-original-size
  (let [conf (dissoc full-conf 0 3)
        s    (-> (full-statuses)
                 (merge (into {} (for [n ["n2" "n3" "n5"] :let [id (name->id n)]]
                                   [n (status id conf "voter" (= id 1))])))
                 (assoc "n1" (status 0 conf "removed" false)
                        "n4" (status 3 conf "removed" false :incarnation "77")))
        v    (m/view s)
        c    (m/candidates v 5)]
    (testing "three voters of five: no remove, no replace, only adds"
      (is (= [] (:remove c)))
      (is (= [] (:replace c)))
      (is (= ["n1" "n4"] (:add c)))
      (is (= #{:add} (set (map :op (repeatedly 50 #(m/choose v 5 rand-nth)))))))
    (testing "the same cluster had it started with three: room to remove"
      (is (= ["n2" "n3" "n5"] (:remove (m/candidates v 3)))))
    (testing "an add carries the node's addresses and incarnation"
      (is (= {"op" "add", "id" 3, "raft" "127.0.0.1:3033", "http" "127.0.0.1:2023"
              "incarnation" "77"}
             (m/body :add (get-in v [:nodes "n4"])))))
    (testing "healing adds both back; the cluster is not whole until then"
      (is (= ["n1" "n4"] (m/heal-adds v names)))
      (is (not (m/whole? v names)))
      (is (= ["n1" "n4"] (m/out-nodes v names))))))

(deftest learners-do-not-count-toward-the-majority
  ; four members, one of them a learner (a replaced node rejoining): only
  ; three voters, so nothing more may be taken out of a cluster of five
  (let [conf (-> full-conf (dissoc 0) (assoc 4 false))
        s    (merge (full-statuses)
                    (into {} (for [n ["n2" "n3" "n4" "n5"] :let [id (name->id n)]]
                               [n (status id conf (if (= id 4) "learner" "voter") (= id 1))]))
                    {"n1" (status 0 conf "removed" false)})
        v    (m/view s)]
    (is (= 4 (count (:members v))))
    (is (= 3 (count (:voters v))))
    (is (= [] (:remove (m/candidates v 5))))
    (is (= ["n1"] (:add (m/candidates v 5))))
    (is (not (m/whole? v names)) "a learner is not yet a voter")))

(deftest who-can-be-added
  (let [conf (dissoc full-conf 3)
        base (merge (full-statuses)
                    (into {} (for [n ["n1" "n2" "n3" "n5"] :let [id (name->id n)]]
                               [n (status id conf "voter" (= id 1))])))
        add? (fn [n4] (:add (m/candidates (m/view (assoc base "n4" n4)) 5)))]
    (is (= ["n4"] (add? (status 3 conf "removed" false))) "removed, knows the leader")
    (is (= ["n4"] (add? (status 3 {1 true} "none" false))) "a new life waiting")
    (is (= [] (add? (status 3 {} "joining" false))) "rejoining by itself: left alone")
    (is (= [] (add? (status 3 {} "probing" false))))
    (is (= [] (add? (status 3 {0 true 2 true} "removed" false)))
        "its configuration lacks the leader: it could not hear it")
    (is (= [] (add? (status 3 conf "removed" false :raft nil))) "no raft address to give")
    (is (= [] (add? nil)) "down")
    (is (= ["n4"] (m/out-nodes (m/view (assoc base "n4" nil)) names)))))

(deftest no-leader-no-change
  (let [v (m/view (dissoc (full-statuses) "n2"))]
    (is (nil? (m/choose v 5 rand-nth)))
    (is (= {:remove [] :replace [] :add []} (m/candidates v 5)))
    (is (not (m/whole? v names)))
    (is (= [] (m/heal-adds v names)))))

(deftest bodies
  (is (= {"op" "remove", "id" 2} (m/body :remove {:id 2})))
  (is (= {"op" "remove", "id" 4} (m/body :replace {:id 4})))
  (is (= {"op" "add", "id" 1, "raft" "a:1", "http" "a:2", "incarnation" "0"}
         (m/body :add {:id 1, :raft "a:1", :http "a:2", :incarnation "0"}))))

(deftest summary-names-the-leader-and-who-is-out
  (let [conf (dissoc full-conf 0)
        s    (merge (full-statuses)
                    (into {} (for [n ["n2" "n3" "n4" "n5"] :let [id (name->id n)]]
                               [n (status id conf "voter" (= id 1))]))
                    {"n1" (status 0 conf "removed" false)})]
    (is (= {:leader "n2", :members [1 2 3 4], :voters [1 2 3 4], :out [["n1" "removed"]]}
           (m/summary (m/view s))))
    (is (= [["n1" :down]] (:out (m/summary (m/view (assoc s "n1" nil))))))))

;; A random walk against a model of the cluster: each step the nemesis
;; chooses from the statuses the model gives, the model applies the change
;; as the node does (it takes effect at once; removing the leader moves
;; leadership to the lowest voter), the voters are counted, and then the
;; cluster settles: learners are promoted and a replaced --join node, which
;; rejoins by itself, is a learner (so the next choice sees one). Over
;; thousands of steps the voters never drop below a majority of five, every
;; kind of change happens, and healing the end state makes the cluster whole.

(defn- model-statuses [{:keys [conf state]}]
  (let [lead (first (sort (keep (fn [[i v]] (when v i)) conf)))]
    (into {} (for [id (range 5)]
               [(id->name id)
                (case (state id)
                  :member  (status id conf (if (conf id) "voter" "learner") (= id lead))
                  :removed (status id conf "removed" false)
                  :joining (status id {} "joining" false))]))))

(defn- model-change [{:keys [conf state]} {:keys [op node]}]
  (let [id (name->id node)]
    (case op
      :remove  {:conf (dissoc conf id), :state (assoc state id :removed)}
      :replace {:conf (dissoc conf id), :state (assoc state id :joining)}
      :add     {:conf (assoc conf id false), :state (assoc state id :member)})))

(defn- model-settle [{:keys [conf state]}]
  (let [joins (filter #(= :joining (state %)) (range 5))]
    {:conf  (into (into {} (map (fn [[i _]] [i true])) conf)
                  (map (fn [i] [i false])) joins)
     :state (into state (map (fn [i] [i :member])) joins)}))

(defn- voter-count [cl] (count (filter true? (vals (:conf cl)))))

(deftest random-walk-keeps-a-majority
  (let [rng    (java.util.Random. 12)
        pick   (fn [xs] (nth xs (.nextInt rng (count xs))))
        start  {:conf full-conf, :state (zipmap (range 5) (repeat :member))}
        steps  (reductions (fn [{:keys [cl]} _]
                             (let [c   (m/choose (m/view (model-statuses cl)) 5 pick)
                                   cl' (if c (model-change cl c) cl)]
                               {:cl (model-settle cl'), :change c, :voters (voter-count cl')}))
                           {:cl start, :voters 5} (range 3000))
        voters (map :voters steps)
        ops    (frequencies (keep (comp :op :change) steps))]
    (is (<= 3 (apply min voters)) "never fewer than three voters of five")
    (is (= 3 (apply min voters)) "the walk does reach the floor")
    (is (every? #(< 100 (get ops % 0)) [:remove :replace :add]) (pr-str ops))
    (testing "healing the end state: add what is addable, let the rest rejoin"
      (let [end    (:cl (last steps))
            healed (loop [cl end, rounds 0]
                     (let [v (m/view (model-statuses cl))]
                       (if (or (m/whole? v names) (> rounds 5))
                         cl
                         (recur (model-settle
                                  (reduce (fn [cl n] (model-change cl {:op :add, :node n}))
                                          cl (m/heal-adds v names)))
                                (inc rounds)))))]
        (is (m/whole? (m/view (model-statuses healed)) names))))))
