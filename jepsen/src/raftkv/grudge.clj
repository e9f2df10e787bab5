(ns raftkv.grudge
  "Jepsen grudges as raftkv partition bodies. Pure: no jepsen.* here.

  A grudge maps a node to the nodes it drops messages from. raftkv's
  POST /admin/faults/partition {\"groups\":[...]} makes the receiving node drop
  all traffic to and from every node outside its own group, so each node gets
  its own body: [[itself + everyone it still talks to] [everyone else]]. That
  expresses any grudge, overlapping ones (majorities-ring) included. A cut is
  made symmetric: a node also drops the nodes that drop it, as a cut cable
  does (Jepsen's stock grudges are symmetric anyway).")

(defn cut-sets
  "node -> the set of nodes it must not exchange messages with."
  [nodes grudge]
  (let [base (into {} (for [n nodes] [n (set (get grudge n))]))]
    (reduce-kv (fn [m dst srcs]
                 (reduce (fn [m src] (update m src (fnil conj #{}) dst)) m srcs))
               base grudge)))

(defn bodies
  "node name -> the JSON map to POST to that node's /admin/faults/partition.
  `name->id` gives each node's raft id. Nodes with nothing to drop get no body."
  [nodes name->id grudge]
  (let [cuts (cut-sets nodes grudge)]
    (into {}
          (for [n nodes
                :let [cut (disj (get cuts n #{}) n)]
                :when (seq cut)]
            (let [keep (remove cut nodes)
                  ids  (fn [ns] (vec (sort (map name->id ns))))]
              [n {"groups" [(ids keep) (ids cut)]}])))))
