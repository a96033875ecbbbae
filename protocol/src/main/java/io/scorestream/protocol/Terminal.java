package io.scorestream.protocol;

/** The event that ends a request: {@link Completed}, {@link Failed}, {@link Cancelled} or {@link Rejected}. */
public sealed interface Terminal extends RequestEvent permits Completed, Failed, Cancelled, Rejected {}
