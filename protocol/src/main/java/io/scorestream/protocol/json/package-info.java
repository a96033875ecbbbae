/**
 * The JSON shapes of the HTTP gateway (io.scorestream.streams.http): request and response bodies and the events of a
 * request's stream, as immutable records, plus {@link io.scorestream.protocol.json.Json}, the one Jackson
 * configuration that reads and writes them. No Akka, no ND4J: any Java client may use these records to speak to
 * a node over HTTP. Every record is immutable; arrays are copied in.
 */
package io.scorestream.protocol.json;
