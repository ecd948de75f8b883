package mlflow

import (
	"context"
	"net"
	"syscall"
)

// MLflow 3.x's server (uvicorn) writes an answer's headers and body in two
// sends on a socket without TCP_NODELAY, so the kernel holds the body back
// until the headers are acknowledged. Linux delays that acknowledgement on
// an established connection by up to 40 ms, so every call on a reused
// connection waited that long for a body sent at once (a new connection
// acknowledges at once; that is why only reused ones were slow). Asking
// the kernel for an immediate acknowledgement after each send and receive
// removes the wait; everything else about the connection stays as it is.

// quickAckDial wraps dial so that its TCP connections acknowledge at once.
func quickAckDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc, ok := conn.(*net.TCPConn)
		if !ok {
			return conn, nil
		}
		raw, err := tc.SyscallConn()
		if err != nil {
			return conn, nil
		}
		q := &quickAckConn{TCPConn: tc, raw: raw}
		q.quickAck()
		return q, nil
	}
}

// quickAckConn re-arms TCP_QUICKACK after each read and write: the kernel
// drops back to delayed acknowledgements on its own.
type quickAckConn struct {
	*net.TCPConn
	raw syscall.RawConn
}

func (c *quickAckConn) Read(b []byte) (int, error) {
	n, err := c.TCPConn.Read(b)
	c.quickAck()
	return n, err
}

func (c *quickAckConn) Write(b []byte) (int, error) {
	n, err := c.TCPConn.Write(b)
	c.quickAck()
	return n, err
}

func (c *quickAckConn) quickAck() {
	// A failure only means the acknowledgement may be delayed again.
	_ = c.raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
