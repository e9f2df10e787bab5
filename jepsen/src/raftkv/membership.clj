(ns raftkv.membership
  "The member nemesis' decisions, pure (no jepsen.*, no I/O), so that `make
  test` checks them on Debian's clojure. raftkv.nemesis reads every node's
  /admin/status, builds a view here, asks which change to make, and makes it
  through POST /admin/members and the agents.

  The same semantics as raftkv-workload's member nemesis
  (tests/workload/nemesis_member.c), except that the guard counts voters
  (that one counts members, learners included). Each change is one of those
  possible now:
    remove   a member, if the voters stay at least a majority of the number
             there were at the start (never fewer);
    replace  a member started with --join (status \"join\": true), under the
             same guard: remove it, then kill it, wipe its data dir and start it
             through its agent; it comes back empty, a new incarnation with the
             same id and addresses, and asks to be added again by itself;
    add      a node of the test that is out (removed, or a new life waiting:
             membership \"removed\" or \"none\"), with the incarnation its status
             gives, if its configuration lists the leader (the transport accepts
             frames only from peers it knows).
  Healing adds back every node that is out and can be added, until every node
  of the test is a voter again. The nemesis keeps no membership state: every
  decision starts from the nodes' statuses of the moment.")

(defn majority
  "The fewest voters a cluster that started with n may keep: a majority of n."
  [n]
  (inc (quot n 2)))

(defn- id-of [m]
  (let [v (get m "id")]
    (when (number? v) (long v))))

(defn- member-ids [status]
  (set (keep id-of (get status "members"))))

(defn- voter-ids [status]
  (set (keep #(when (true? (get % "voter")) (id-of %)) (get status "members"))))

(defn leader
  "The node that says it leads in the highest term, among statuses (node name
  -> /admin/status body, nil for a node that did not answer); nil when none."
  [statuses]
  (->> statuses
       (filter (fn [[_ st]] (and (map? st)
                                 (= "leader" (get st "role"))
                                 (number? (get st "term"))
                                 (id-of st))))
       (sort-by (fn [[n st]] [(- (double (get st "term"))) n]))
       ffirst))

(defn- node-view [st members leader-id]
  (let [id         (when (map? st) (id-of st))
        up         (some? id)
        membership (when up (get st "membership"))
        raft       (when up (get st "raft"))
        member     (boolean (and up (contains? members id)))]
    {:up          up
     :id          id
     :member      member
     :join        (boolean (and up (true? (get st "join"))))
     :membership  membership
     :raft        raft
     :http        (when up (get st "http"))
     :incarnation (when up (str (or (get st "incarnation") "0")))
     ; out, settled, and able to hear the leader once added
     :addable     (boolean (and up (not member) leader-id
                                (#{"removed" "none"} membership)
                                (string? raft) (seq raft)
                                (contains? (member-ids st) leader-id)))}))

(defn view
  "statuses: node name -> /admin/status body (string keys, as parsed JSON) or
  nil when the node did not answer. Returns
    {:leader name-or-nil, :leader-id id, :members #{ids in the leader's
     configuration, nodes outside the test included}, :voters #{ids},
     :nodes {name {:up :id :member :join :membership :raft :http
                   :incarnation :addable}}}
  With no leader, no node counts as a member: nothing is changed then."
  [statuses]
  (let [l         (leader statuses)
        lst       (get statuses l)
        leader-id (when lst (id-of lst))
        members   (if lst (member-ids lst) #{})]
    {:leader    l
     :leader-id leader-id
     :members   members
     :voters    (if lst (voter-ids lst) #{})
     :nodes     (into (sorted-map)
                      (for [[n st] statuses] [n (node-view st members leader-id)]))}))

(defn candidates
  "{:remove [names] :replace [names] :add [names]}: who each change could
  take now, for a cluster that had `orig` voters at the start. A remove or
  replace takes a member out, so either needs at least majority(orig) + 1
  voters now (learners are not counted: a learner does not vote, and a
  replaced node rejoining by itself is one until promoted); a replace also
  needs a --join node."
  [{:keys [leader voters nodes]} orig]
  (let [room?   (and leader (>= (dec (count voters)) (majority orig)))
        in      (for [[n v] nodes :when (:member v)] n)]
    {:remove  (if room? (vec in) [])
     :replace (if room? (vec (filter #(:join (nodes %)) in)) [])
     :add     (if leader (vec (for [[n v] nodes :when (:addable v)] n)) [])}))

(def ops [:remove :replace :add])

(defn choose
  "One change among those possible: {:op :remove|:replace|:add, :node name},
  or nil when none is (no leader, or nothing to add and no room to remove).
  pick: a function choosing one element of a non-empty vector (rand-nth,
  or a seeded one in tests). The op is chosen first, uniformly among those
  with a candidate, then its node."
  [view orig pick]
  (let [c        (candidates view orig)
        possible (filterv #(seq (c %)) ops)]
    (when (seq possible)
      (let [op (pick possible)]
        {:op op, :node (pick (c op))}))))

(defn body
  "The POST /admin/members body for a change of the node whose view is v."
  [op v]
  (case op
    (:remove :replace) {"op" "remove", "id" (:id v)}
    :add {"op" "add", "id" (:id v), "raft" (:raft v), "http" (:http v),
          "incarnation" (:incarnation v)}))

(defn out-nodes
  "Nodes of the test (names) that are not members now."
  [{:keys [nodes]} test-nodes]
  (vec (remove #(:member (nodes %)) test-nodes)))

(defn heal-adds
  "Nodes of the test that healing should add now: out and addable."
  [{:keys [leader nodes] :as v} test-nodes]
  (if leader
    (filterv #(:addable (nodes %)) (out-nodes v test-nodes))
    []))

(defn whole?
  "Every node of the test is a voter of the leader's configuration."
  [{:keys [leader voters nodes]} test-nodes]
  (boolean (and leader
                (every? #(let [v (nodes %)] (and (:up v) (contains? voters (:id v))))
                        test-nodes))))

(defn summary
  "What the nemesis records of a view: the leader and who is in."
  [{:keys [leader members voters nodes]}]
  {:leader  leader
   :members (vec (sort members))
   :voters  (vec (sort voters))
   :out     (vec (for [[n v] nodes :when (not (:member v))]
                   [n (if (:up v) (:membership v) :down)]))})
