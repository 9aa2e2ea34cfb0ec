// Package config reads Apache ZooKeeper's zoo.cfg (java.util.Properties
// syntax: '#'/'!' comments, key=value or key:value, '\' continuation lines)
// and dataDir/myid into a typed [Config] with Apache's defaults, so an
// existing zoo.cfg starts zkgo unchanged. [Parse] checks syntax and value
// types, [Load] also reads myid and the dynamic config file and runs
// [Config.Validate]; every configuration error is an [*Error] naming file,
// line, key and value, matchable with errors.Is(err, [ErrInvalid]). Keys zkgo
// does not use are listed in Config.Unknown for the caller to warn about.
// [Config.FormatConf] renders the conf four-letter word. The package does no
// I/O beyond Load and starts no goroutines; a Config is a plain value that is
// safe for concurrent reads once built and must not be modified while shared.
package config
