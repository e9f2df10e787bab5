(ns raftkv.answer
  "What an HTTP answer from a raftkv node means for a Jepsen operation. Pure:
  no jepsen.* here, so Debian's clojure can test it.

  The contract (section 2): 2xx applied; 4xx and 503 certainly not applied;
  504 may or may not have been applied. A request that never left the client
  (connection refused on a fresh connection) did not happen either. Anything
  else after the request was sent (timeout, reset, another 5xx) is unknown.
  An operation with no effect (a read) can always be reported as a :fail,
  since failing it claims nothing about the state.")

(defn definite-failure?
  "True when the node says the operation certainly did not take effect."
  [status]
  (boolean (and (integer? status)
                (or (<= 400 status 499) (= status 503)))))

(defn outcome
  "Classifies one answer. `answer` is either {:status code, :body parsed-json}
  or {:error kind} where kind is :refused (nothing was sent), :timeout or :io
  (sent, no complete answer). `read-only?` says the operation has no effect.
  Returns {:type :ok|:fail|:info, :error ...} (no :error on :ok)."
  [answer read-only?]
  (let [{:keys [status body error]} answer
        err   (fn [e] (if (map? body) (get body "error" e) e))
        unknown (if read-only? :fail :info)]
    (cond
      (= error :refused)            {:type :fail, :error :connection-refused}
      (= error :timeout)            {:type unknown, :error :timeout}
      error                         {:type unknown, :error (keyword (name error))}
      (and (integer? status) (<= 200 status 299)) {:type :ok}
      ; an absent key: a successful read of nothing
      (and (= 404 status) (map? body) (contains? body "value")
           (nil? (get body "value"))) {:type :ok, :absent? true}
      (and (= 409 status) (map? body) (= "cas mismatch" (get body "error")))
      {:type :fail, :error :mismatch, :current (get body "value")}
      (definite-failure? status)    {:type :fail, :error [status (err "refused")]}
      (= 504 status)                {:type unknown, :error [504 (err "timeout")]}
      :else                         {:type unknown, :error [status (err "unexpected")]})))
