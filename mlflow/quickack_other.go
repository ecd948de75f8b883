//go:build !linux

package mlflow

import (
	"context"
	"net"
)

// quickAckDial returns dial as it is: only Linux has TCP_QUICKACK (see
// quickack_linux.go for why it matters).
func quickAckDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return dial
}
