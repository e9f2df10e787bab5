(ns raftkv.http
  "A small HTTP/1.1 client on the JDK's java.net.http, with JSON through
  clojure.data.json. No jepsen.* here. Answers are data, never exceptions:
    {:status code, :body parsed-json-or-string}
    {:error :refused}   nothing was sent (connection refused or not made)
    {:error :timeout}   sent, no answer in time
    {:error :io}        sent, the connection broke"
  (:require [clojure.data.json :as json])
  (:import (java.io IOException)
           (java.net ConnectException URI)
           (java.net.http HttpClient HttpClient$Version HttpConnectTimeoutException
                          HttpRequest HttpRequest$BodyPublishers
                          HttpResponse HttpResponse$BodyHandlers HttpTimeoutException)
           (java.nio.channels ClosedChannelException)
           (java.time Duration)))

(defonce ^:private client
  (delay (-> (HttpClient/newBuilder)
             (.version HttpClient$Version/HTTP_1_1)
             (.connectTimeout (Duration/ofSeconds 2))
             (.build))))

(defn- parse-body [^String s]
  (if (or (nil? s) (= "" s))
    nil
    (try (json/read-str s)
         (catch Exception _ s))))

(defn- cause-chain [^Throwable t]
  (take-while some? (iterate #(.getCause ^Throwable %) t)))

(defn error-kind
  "What a client exception means for the request: :refused (never sent),
  :timeout or :io."
  [^Throwable t]
  (let [chain (cause-chain t)]
    (cond
      (some #(instance? HttpConnectTimeoutException %) chain) :refused
      (some #(instance? ConnectException %) chain)            :refused
      (some #(instance? HttpTimeoutException %) chain)        :timeout
      (some #(instance? ClosedChannelException %) chain)      :io
      :else                                                   :io)))

(defn request
  "method: \"GET\" ...; body: a map (sent as JSON), a string (raw), or nil.
  Options :token (admin bearer token), :timeout-ms (default 5000), :raw? (keep
  the body a string)."
  [method url body {:keys [token timeout-ms raw?]}]
  (let [payload (cond (nil? body)    ""
                      (string? body) body
                      :else          (json/write-str body))
        b (-> (HttpRequest/newBuilder (URI/create url))
              (.timeout (Duration/ofMillis (or timeout-ms 5000)))
              (.method method (if (and (nil? body) (#{"GET" "DELETE"} method))
                                (HttpRequest$BodyPublishers/noBody)
                                (HttpRequest$BodyPublishers/ofString payload))))
        b (if token (.header b "Authorization" (str "Bearer " token)) b)]
    (try
      (let [^HttpResponse r (.send ^HttpClient @client (.build b)
                                   (HttpResponse$BodyHandlers/ofString))]
        {:status (.statusCode r)
         :body   (if raw? (.body r) (parse-body (.body r)))})
      (catch InterruptedException e
        (throw e))
      (catch IOException e
        {:error (error-kind e), :message (.getMessage e)}))))
