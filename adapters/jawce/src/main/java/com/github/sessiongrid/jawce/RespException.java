package com.github.sessiongrid.jawce;

/**
 * An error reply from the server ({@code -CODE message}). The connection
 * that received it stays usable. {@link #code()} is the first word of the
 * reply: gridnode's codes are WRONGTYPE, INVALIDID, INVALIDKEY, TOOLARGE,
 * UNAVAILABLE, NOAUTH, WRONGPASS and ERR.
 */
public class RespException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String code;

    /** Builds the exception of the error reply {@code reply} (without the leading '-'). */
    public RespException(String reply) {
        super(reply);
        int sp = reply.indexOf(' ');
        this.code = sp < 0 ? reply : reply.substring(0, sp);
    }

    /** The error code: the first word of the reply. */
    public String code() {
        return code;
    }
}
