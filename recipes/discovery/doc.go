// Package discovery implements Apache Curator's service discovery
// (curator-x-discovery) on a client.Conn, with Curator's znode layout and
// JSON records, so that Go and Java processes register and find each
// other's service instances:
//
//   - [Discovery] (ServiceDiscovery): a registry under a base path. Each
//     instance is a node BASE/<service name>/<instance id> holding the
//     instance's JSON record, as Curator's JsonInstanceSerializer writes it
//     (see [Instance]); the service and base nodes are containers. Register,
//     Update and Unregister manage this process's instances;
//     QueryForNames, QueryForInstances and QueryForInstance read anyone's.
//   - [Cache] (ServiceCache): the instances of one service, kept up to date
//     with a watch, with listeners told of every addition, update and
//     removal.
//   - [Provider] (ServiceProvider): hands out one instance of a service at
//     a time, chosen by a [Strategy] (round robin or random) among the
//     enabled instances that no filter rejects and that are not down
//     (NoteError, with a [DownInstancePolicy]).
//
// # Node kinds and session loss
//
// An instance's [ServiceType] chooses its node: Dynamic (the default) and
// DynamicSequential instances are ephemeral nodes and disappear when the
// session that registered them ends; Static and Permanent instances are
// persistent nodes. Like Curator, a Discovery registers its instances
// again whenever the Conn reports Reconnected: after a lost session (the
// Conn then runs a new session) the ephemeral nodes are created again, and
// a node left behind by the old session, which the server may not have
// expired yet, is deleted and created again on the new one. Instances are
// therefore missing from the registry only while their process has no
// session. Unlike Curator, a node that is still there, owned by the
// current session and holding the current record, is left alone, so that
// a mere suspension causes no remove and add for the watchers.
//
// # Concurrency
//
// Discovery, Cache and Provider are safe for concurrent use. A Discovery
// runs one goroutine (re-registration) and a Cache one (the watch); Close
// stops them and waits. A Cache needs persistent watches (ZooKeeper 3.6 or
// later, or zkgo).
package discovery
