(ns raftkv.db
  "The raftkv DB for Jepsen, without SSH: nodes run under the fault agent
  (contract section 4), which starts, kills, pauses and resumes them and hands
  out their log file; everything else goes through /admin."
  (:require [clojure.tools.logging :refer [info warn]]
            [jepsen [db :as db]
                    [store :as store]]
            [raftkv.api :as api]))

(def ready-timeout-ms 60000)

(defn set-bug!
  "Turns the named bug switch on (e.g. \"stale_reads\")."
  [test node bug]
  (api/check! (str node " POST /admin/bugs")
              (api/admin test node "POST" "/admin/bugs" {bug true})))

(defn start-node!
  "Starts the node through its agent unless it is already running. A node
  starts with no faults and no bugs (they live in its memory), so the run's
  --bug is switched on again once it answers: the bug is on for the whole run,
  restarts included."
  [test node]
  (when-not (= "running" (api/agent-state test node))
    (api/check! (str node " /agent/start") (api/agent test node "POST" "/agent/start"))
    (when-let [bug (:bug test)]
      (try (api/await-until (str node " to answer") 10000
                            #(api/ok? (api/admin test node "GET" "/healthz")))
           (set-bug! test node bug)
           (catch Exception e
             (warn node "restarted, but its bug switch could not be set:" (.getMessage e))))))
  :started)

(defn clear-faults!
  [test node]
  (api/check! (str node " DELETE /admin/faults") (api/admin test node "DELETE" "/admin/faults"))
  (api/check! (str node " DELETE /admin/bugs") (api/admin test node "DELETE" "/admin/bugs")))

(defrecord DB []
  db/DB
  (setup! [_ test node]
    (info node "setup: start, clear faults and bugs, wait until ready")
    (when (= "paused" (api/agent-state test node))
      (api/agent test node "POST" "/agent/resume"))
    (start-node! test node)
    (api/await-until (str node " to answer") ready-timeout-ms
                     #(api/ok? (api/admin test node "GET" "/healthz")))
    (clear-faults! test node)
    (when-let [bug (:bug test)]
      (info node "bug switch on:" bug)
      (set-bug! test node bug))
    (api/await-until (str node " /readyz") ready-timeout-ms #(api/ready? test node)))

  (teardown! [_ test node]
    (info node "teardown: resume, start, clear faults and bugs")
    (when (= "paused" (api/agent-state test node))
      (api/agent test node "POST" "/agent/resume"))
    (try (start-node! test node)
         (api/await-until (str node " to answer") ready-timeout-ms
                          #(api/ok? (api/admin test node "GET" "/healthz")))
         (clear-faults! test node)
         (catch Exception e (warn e node "teardown could not clear the node"))))

  db/Kill
  (kill! [_ test node]
    (api/check! (str node " /agent/kill") (api/agent test node "POST" "/agent/kill"))
    :killed)
  (start! [_ test node]
    (start-node! test node))

  db/Pause
  (pause! [_ test node]
    (api/check! (str node " /agent/pause") (api/agent test node "POST" "/agent/pause"))
    :paused)
  (resume! [_ test node]
    (when (= "paused" (api/agent-state test node))
      (api/check! (str node " /agent/resume") (api/agent test node "POST" "/agent/resume")))
    :resumed)

  db/Primary
  (primaries [_ test]
    ; every leader some reachable node names, by node name
    (let [id->name (into {} (map (fn [[n t]] [(:id t) n]) (:targets test)))]
      (->> (:nodes test)
           (keep (fn [node] (some-> (api/status test node) (get "leader"))))
           (keep #(id->name (long %)))
           distinct
           vec)))
  (setup-primary! [_ test node])

  db/LogFiles
  (log-files [_ test node]
    ; No SSH to download with: fetch the log from the agent into the store.
    (let [a (api/agent-log test node)]
      (if (api/ok? a)
        (spit (store/path! test node "raftkv.log") (:body a))
        (warn node "could not fetch the node's log:" (pr-str (dissoc a :body)))))
    {}))

(defn db [] (->DB))
