package com.github.sessiongrid.jawce;

/**
 * The server could not be reached, the connection broke, or it sent bytes
 * that are not RESP. A write that failed this way may or may not have been
 * applied.
 */
public class RespConnectionException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Builds the exception with its message and cause. */
    public RespConnectionException(String message, Throwable cause) {
        super(message, cause);
    }
}
