package discovery_test

import (
	"os"
	"testing"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/internal/testserver"
)

// suite is the server the tests run against: zkgo in process, or Apache
// ZooKeeper with ZKGO_TEST_TARGET=apache.
var suite testserver.Suite

func TestMain(m *testing.M) { os.Exit(testserver.Main(m, &suite)) }

// exampleServer is the connect string the examples use.
func exampleServer() string { return suite.ExampleAddr() }

// connect opens a session to the suite's server.
func connect(t testing.TB, opts ...client.Option) *client.Conn {
	t.Helper()
	return testserver.Connect(t, suite.Addr(t), opts...)
}
