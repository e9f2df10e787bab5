(ns raftkv.txn
  "Encoding Jepsen operations as raftkv requests and decoding the answers.
  Pure: no jepsen.* here.

  Keys: every run has its own key prefix, because a node cannot be reset
  (wiping a whole cluster would leave no voter) and the checkers assume that
  every key starts absent.

  Register values are integers written as strings; an absent key reads as the
  sentinel :absent, because Knossos takes a nil read for \"any value\".

  List-append values are integers; an append sends \"<n> \" so the stored
  value is a space-separated list that decodes back to [n ...]."
  (:require [clojure.string :as str]))

(def absent
  "The register value of a key that does not exist (the model's initial value)."
  :absent)

(defn run-prefix
  "A key prefix unique to one run: r<ms>- for register, a<ms>- for append."
  [workload start-ms]
  (str (case workload :register "r" :append "a" "x") start-ms "-"))

(defn key-name [prefix k] (str prefix k))

;; ------------------------------------------------------------ register

(defn register-value
  "A register value from a node's JSON value (a string or null)."
  [v]
  (if (nil? v) absent (Long/parseLong v)))

(defn register-body
  "The value on the wire for a register value (nil for :absent)."
  [v]
  (when-not (= absent v) (str v)))

(defn cas-body
  "The JSON map for POST /kv/K/cas from [expected new]."
  [[from to]]
  {"from" (register-body from), "to" (register-body to)})

;; ------------------------------------------------------------ list append

(defn decode-list
  "\"1 2 3 \" -> [1 2 3]; nil (absent) -> nil."
  [s]
  (when (some? s)
    (->> (str/split (str/trim s) #"\s+")
         (remove str/blank?)
         (mapv #(Long/parseLong %)))))

(defn encode-txn
  "Jepsen micro-ops [[:r k nil] [:append k 3]] -> the JSON map of POST /txn,
  keys prefixed."
  [prefix mops]
  {"ops" (mapv (fn [[f k v]]
                 (case f
                   :r      ["r" (key-name prefix k) nil]
                   :append ["append" (key-name prefix k) (str v " ")]
                   :w      ["w" (key-name prefix k) (str v)]))
               mops)})

(defn read-only? [mops] (every? (fn [[f]] (= f :r)) mops))

(defn decode-txn
  "Fills the reads of mops from the node's answer {\"ops\":[[kind,key,value]..]}.
  Throws ex-info when the answer does not match the request op for op, which
  the client reports as unknown rather than guessing."
  [mops answer]
  (let [ops (get answer "ops")]
    (when-not (and (sequential? ops) (= (count ops) (count mops)))
      (throw (ex-info "txn answer does not match the request"
                      {:type ::mismatch, :sent mops, :answer answer})))
    (mapv (fn [[f k v :as mop] [kind _ value]]
            (case f
              :r (do (when-not (= kind "r")
                       (throw (ex-info "txn answer out of order"
                                       {:type ::mismatch, :sent mops, :answer answer})))
                     [:r k (decode-list value)])
              mop))
          mops ops)))
