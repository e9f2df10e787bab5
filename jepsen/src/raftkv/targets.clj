(ns raftkv.targets
  "Where each Jepsen node is: a node name maps to the raftkv node id (its id in
  --cluster), its HTTP URL and its fault agent's URL. Pure: no jepsen.* here.

  Built in:
    compose[:N]      the docker compose cluster seen from the host (make
                     docker-up; N 3 by default, 5 with docker-compose.5.yml):
                     nK -> id K-1, HTTP 127.0.0.1:1202K, agent 127.0.0.1:1204K
    compose-network[:N]  the same cluster from a container on its network
                     (the `jepsen` compose profile): http://nK:2020, :2040
    local[:BASE[:N]] tests/cluster.sh's layout (make run: BASE 2020, N 3):
                     n1..nN -> ids 0..N-1, HTTP 127.0.0.1:BASE+i, agent BASE+20+i
  Or a file, one node a line, `#` comments:
    NAME ID HTTP-URL AGENT-URL"
  (:require [clojure.string :as str]))

(defn- node [name id http agent]
  {:name name, :id id, :http http, :agent agent})

(defn compose
  "The compose cluster from the host; n nodes (3, or 5 with docker-compose.5.yml)."
  [n]
  (into {} (for [i (range n)
                 :let [k (inc i), name (str "n" k)]]
             [name (node name i (str "http://127.0.0.1:" (+ 12020 k))
                         (str "http://127.0.0.1:" (+ 12040 k)))])))

(defn compose-network
  "The compose cluster from a container on its network."
  [n]
  (into {} (for [i (range n)
                 :let [name (str "n" (inc i))]]
             [name (node name i (str "http://" name ":2020")
                         (str "http://" name ":2040"))])))

(defn local
  "tests/cluster.sh start DIR n BASE."
  [n base]
  (into {} (for [i (range n)
                 :let [name (str "n" (inc i))]]
             [name (node name i (str "http://127.0.0.1:" (+ base i))
                         (str "http://127.0.0.1:" (+ base 20 i)))])))

(defn- parse-url [s line-no]
  (when-not (re-matches #"https?://[^\s/]+(:\d+)?/?" s)
    (throw (ex-info (str "targets line " line-no ": not an http URL: " s)
                    {:type ::bad-targets, :line line-no})))
  (str/replace s #"/$" ""))

(defn parse-file-text
  "Parses the text of a targets file. Throws ex-info {:type ::bad-targets}
  naming the line on any error."
  [text]
  (let [entries
        (->> (str/split-lines text)
             (map-indexed vector)
             (keep (fn [[i line]]
                     (let [line (str/trim (str/replace line #"#.*" ""))
                           no   (inc i)]
                       (when-not (str/blank? line)
                         (let [fields (str/split line #"\s+")]
                           (when-not (= 4 (count fields))
                             (throw (ex-info (str "targets line " no
                                                  ": want NAME ID HTTP-URL AGENT-URL, got: "
                                                  line)
                                             {:type ::bad-targets, :line no})))
                           (let [[name id http agent] fields]
                             (when-not (re-matches #"\d+" id)
                               (throw (ex-info (str "targets line " no
                                                    ": the id must be a non-negative integer: "
                                                    id)
                                               {:type ::bad-targets, :line no})))
                             (node name (Long/parseLong id)
                                   (parse-url http no) (parse-url agent no)))))))))
        names (map :name entries)
        ids   (map :id entries)]
    (when (empty? entries)
      (throw (ex-info "targets file names no node" {:type ::bad-targets})))
    (when-not (apply distinct? names)
      (throw (ex-info "targets file names a node twice" {:type ::bad-targets})))
    (when-not (apply distinct? ids)
      (throw (ex-info "targets file gives two nodes the same id" {:type ::bad-targets})))
    (into {} (map (juxt :name identity) entries))))

(defn- spec-int [spec s what lo hi]
  (let [v (when (and s (re-matches #"\d{1,5}" s)) (Long/parseLong s))]
    (when-not (and v (<= lo v hi))
      (throw (ex-info (str "--targets " spec ": " what " must be a number from "
                           lo " to " hi)
                      {:type ::bad-targets})))
    v))

(defn resolve-spec
  "A --targets value -> the map name -> node:
    compose[:N]          N nodes (3 by default; 5 with docker-compose.5.yml)
    compose-network[:N]  the same, from a container on the compose network
    local[:BASE[:N]]     tests/cluster.sh layout, BASE 2020 and N 3 by default
    anything else        a targets file, read with slurp-fn (injected for tests)"
  [spec slurp-fn]
  (let [[kind a b :as parts] (str/split spec #":")]
    (case kind
      "compose"         (compose (if a (spec-int spec a "N" 1 5) 3))
      "compose-network" (compose-network (if a (spec-int spec a "N" 1 5) 3))
      "local"           (local (if b (spec-int spec b "N" 1 99) 3)
                               (if a (spec-int spec a "BASE" 1 65000) 2020))
      (parse-file-text (slurp-fn spec)))))

(defn node-names
  "Node names in id order."
  [targets]
  (->> (vals targets) (sort-by :id) (mapv :name)))

(defn id->name [targets]
  (into {} (map (juxt :id :name) (vals targets))))
