package server

import "github.com/zkgo/zkgo/internal/lockorder"

// The server's locks, in the order a goroutine may take them (lower levels
// first). The apply goroutine holds database.mu while it fires watches
// (conn.mu, watchTable.mu), completes waiters (waitRegistry.mu), tracks
// sessions (sessionTracker.mu) and finds a session's connection
// (Server.mu); readers hold database.mu (read) and conn.mu while they
// execute. Server.mu and conn.mu are never held together today; their ranks
// only fix which may be added under the other. Race builds (go test -race)
// panic on any other order; see package lockorder.
var (
	rankDatabase = lockorder.Rank{Level: 10, Name: "database.mu"}
	rankConn     = lockorder.Rank{Level: 20, Name: "conn.mu"}
	rankServer   = lockorder.Rank{Level: 30, Name: "Server.mu"}
	rankWatches  = lockorder.Rank{Level: 40, Name: "watchTable.mu"}
	// Leaves: nothing is taken while one of them is held.
	rankTracker  = lockorder.Rank{Level: 50, Name: "sessionTracker.mu"}
	rankWaiters  = lockorder.Rank{Level: 50, Name: "waitRegistry.mu"}
	rankStats    = lockorder.Rank{Level: 50, Name: "stats.mu"}
	rankReadOnly = lockorder.Rank{Level: 50, Name: "roSessions.mu"}
	rankOwners   = lockorder.Rank{Level: 50, Name: "sessionOwners.mu"}
)
