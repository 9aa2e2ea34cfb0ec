package discovery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/zkgo/zkgo/recipes/internal/curator"
	"net"
	"strconv"
	"strings"
	"time"
)

// ServiceType is how an instance is registered (Curator's ServiceType): it
// chooses the kind of node.
type ServiceType string

// Service types, as Curator names them in the JSON record.
const (
	// Dynamic instances live in an ephemeral node: they go away with the
	// session that registered them. The zero ServiceType means Dynamic.
	Dynamic ServiceType = "DYNAMIC"
	// Static instances live in a persistent node.
	Static ServiceType = "STATIC"
	// Permanent instances live in a persistent node.
	Permanent ServiceType = "PERMANENT"
	// DynamicSequential instances live in an ephemeral sequential node
	// named after the id with ZooKeeper's ten-digit suffix.
	DynamicSequential ServiceType = "DYNAMIC_SEQUENTIAL"
)

// IsDynamic reports whether instances of type t end with their session.
func (t ServiceType) IsDynamic() bool { return t == "" || t == Dynamic || t == DynamicSequential }

// Instance is one instance of a service (Curator's ServiceInstance). T is
// the type of the payload: json.RawMessage keeps it as raw JSON, any
// decodes it generically.
//
// Its JSON form (MarshalJSON, UnmarshalJSON) is the record Curator's
// JsonInstanceSerializer writes and reads: the fields in Curator's order,
// null for an absent port, sslPort, payload, uriSpec or address, unknown
// fields ignored. Curator declares the payload with Jackson's class type
// information, so Java reads a JSON object payload as a map unless it names
// its class in an "@class" field, cannot read a bare JSON array, and writes
// a long or a list as ["java.lang.Long", 5] and ["java.util.ArrayList",
// [...]]; a Go payload type meant for Java POJOs carries the "@class" field.
type Instance[T any] struct {
	// Name is the service's name: the instance's node is
	// BASE/<Name>/<ID>.
	Name string
	// ID identifies the instance within its service (Curator's builder uses
	// a random UUID, as NewInstance does).
	ID string
	// Address is where the instance listens; "" is written as null.
	Address string
	// Port and SSLPort are nil when the instance has none (written as
	// null); set them with new(8080).
	Port    *int
	SSLPort *int
	// Payload is the application's data.
	Payload T
	// RegistrationTime is when the instance was created, kept in
	// milliseconds since the epoch; the zero Time is written as 0.
	RegistrationTime time.Time
	// ServiceType chooses the kind of node; "" means Dynamic.
	ServiceType ServiceType
	// URISpec is a template for the instance's URI, or nil.
	URISpec *URISpec
	// Disabled marks an instance that providers must not hand out
	// (Curator's enabled=false). The field is written only by a Discovery
	// made WithEnabledField, since Curator's default serializer leaves it
	// out; an absent field reads as enabled.
	Disabled bool
}

// NewInstance returns an instance of service name with Curator's builder
// defaults: a random UUID as id, the first non-loopback address of this
// host, the current time as registration time and type Dynamic.
func NewInstance[T any](name string, payload T) Instance[T] {
	return Instance[T]{
		Name:             name,
		ID:               curator.NewUUID(),
		Address:          localIP(),
		Payload:          payload,
		RegistrationTime: time.Now(),
		ServiceType:      Dynamic,
	}
}

// URI builds the instance's URI from its URISpec ("" if it has none), with
// vars overriding the predefined fields (see URISpec.Build).
func (i Instance[T]) URI(vars map[string]string) string {
	if i.URISpec == nil {
		return ""
	}
	return i.URISpec.Build(i.fields(), vars)
}

// fields are the values of URISpec's predefined fields for i.
func (i Instance[T]) fields() map[string]string {
	f := map[string]string{
		"scheme":                "http",
		"name":                  i.Name,
		"id":                    i.ID,
		"address":               i.Address,
		"port":                  "",
		"ssl-port":              "",
		"registration-time-utc": strconv.FormatInt(millis(i.RegistrationTime), 10),
		"service-type":          strings.ToLower(string(i.serviceType())),
	}
	if i.Port != nil {
		f["port"] = strconv.Itoa(*i.Port)
	}
	if i.SSLPort != nil {
		f["ssl-port"] = strconv.Itoa(*i.SSLPort)
		f["scheme"] = "https"
	}
	return f
}

func (i Instance[T]) serviceType() ServiceType {
	if i.ServiceType == "" {
		return Dynamic
	}
	return i.ServiceType
}

// MarshalJSON writes the record as Curator's default JsonInstanceSerializer
// does (compatible mode: no "enabled" field). Like Jackson it does not
// escape <, > and &; json.Marshal escapes them again in its own output
// (a json.Encoder with SetEscapeHTML(false) does not).
func (i Instance[T]) MarshalJSON() ([]byte, error) { return i.encode(false) }

// UnmarshalJSON reads a record written by Curator (either serializer mode)
// or by MarshalJSON.
func (i *Instance[T]) UnmarshalJSON(b []byte) error {
	var r struct {
		Name                string          `json:"name"`
		ID                  string          `json:"id"`
		Address             *string         `json:"address"`
		Port                *int            `json:"port"`
		SSLPort             *int            `json:"sslPort"`
		Payload             json.RawMessage `json:"payload"`
		RegistrationTimeUTC int64           `json:"registrationTimeUTC"`
		ServiceType         *ServiceType    `json:"serviceType"`
		URISpec             *URISpec        `json:"uriSpec"`
		Enabled             *bool           `json:"enabled"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidRecord, err)
	}
	n := Instance[T]{
		Name:        r.Name,
		ID:          r.ID,
		Port:        r.Port,
		SSLPort:     r.SSLPort,
		ServiceType: Dynamic, // Curator's default when the field is absent
		URISpec:     r.URISpec,
		Disabled:    r.Enabled != nil && !*r.Enabled,
	}
	if r.Address != nil {
		n.Address = *r.Address
	}
	if r.RegistrationTimeUTC != 0 {
		n.RegistrationTime = time.UnixMilli(r.RegistrationTimeUTC)
	}
	if r.ServiceType != nil {
		n.ServiceType = *r.ServiceType
	}
	if len(r.Payload) > 0 && string(r.Payload) != "null" {
		if err := json.Unmarshal(r.Payload, &n.Payload); err != nil {
			return fmt.Errorf("%w: payload: %w", ErrInvalidRecord, err)
		}
	}
	*i = n
	return nil
}

// encode writes the record field by field, in the order Jackson gives
// Curator's ServiceInstance (declaration order), without HTML escaping
// (Jackson does none); withEnabled adds the field Curator's non-compatible
// serializer writes.
func (i Instance[T]) encode(withEnabled bool) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	var err error
	value := func(v any) {
		if err == nil {
			err = enc.Encode(v)
			b.Truncate(b.Len() - 1) // Encode's newline
		}
	}
	field := func(name string, v any) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + name + `":`)
		value(v)
	}
	b.WriteByte('{')
	field("name", i.Name)
	field("id", i.ID)
	field("address", nullIfEmpty(i.Address))
	field("port", i.Port)
	field("sslPort", i.SSLPort)
	field("payload", i.Payload)
	field("registrationTimeUTC", millis(i.RegistrationTime))
	field("serviceType", i.serviceType())
	field("uriSpec", i.URISpec)
	if withEnabled {
		field("enabled", !i.Disabled)
	}
	b.WriteByte('}')
	if err != nil {
		return nil, fmt.Errorf("discovery: encode instance %s/%s: %w", i.Name, i.ID, err)
	}
	return b.Bytes(), nil
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// millis is t in milliseconds since the epoch, 0 for the zero Time.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// URISpec is a URI template (Curator's UriSpec): literal text and {field}
// variables, kept as the parts Curator stores in the JSON record.
type URISpec struct {
	Parts []URIPart `json:"parts"`
}

// URIPart is a literal piece of a URISpec, or the name of a variable.
type URIPart struct {
	Value    string `json:"value"`
	Variable bool   `json:"variable"`
}

// ParseURISpec parses a template such as "{scheme}://{address}:{port}/x"
// as Curator's UriSpec(String) does. Predefined variables are scheme
// (http, or https when the instance has an SSL port), name, id, address,
// port, ssl-port, registration-time-utc and service-type; {[} and {]} stand
// for literal braces.
func ParseURISpec(s string) (*URISpec, error) {
	spec := &URISpec{Parts: []URIPart{}}
	inVar := false
	for len(s) > 0 {
		n := strings.IndexAny(s, "{}")
		if n < 0 {
			n = len(s)
		}
		if n > 0 {
			tok := s[:n]
			if inVar {
				tok = strings.TrimSpace(tok)
			}
			spec.Parts = append(spec.Parts, URIPart{Value: tok, Variable: inVar})
			s = s[n:]
			continue
		}
		switch s[0] {
		case '{':
			if inVar {
				return nil, fmt.Errorf("discovery: uri spec: { inside a variable")
			}
			inVar = true
		case '}':
			if !inVar {
				return nil, fmt.Errorf("discovery: uri spec: } without {")
			}
			inVar = false
		}
		s = s[1:]
	}
	if inVar {
		return nil, fmt.Errorf("discovery: uri spec: variable not closed")
	}
	return spec, nil
}

// Build joins the parts, replacing each variable with its value in vars,
// else in fields; a variable found in neither is left out.
func (u *URISpec) Build(fields, vars map[string]string) string {
	var b strings.Builder
	for _, p := range u.Parts {
		if !p.Variable {
			b.WriteString(p.Value)
			continue
		}
		if v, ok := vars[p.Value]; ok {
			b.WriteString(v)
			continue
		}
		switch p.Value {
		case "[":
			b.WriteByte('{')
		case "]":
			b.WriteByte('}')
		default:
			b.WriteString(fields[p.Value])
		}
	}
	return b.String()
}

// localIP returns this host's first non-loopback, non-link-local address,
// IPv4 preferred (Curator's builder takes the first such address of the
// first interface), or "" if there is none.
func localIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	var v6 string
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.IsLoopback() || n.IP.IsLinkLocalUnicast() {
			continue
		}
		if n.IP.To4() != nil {
			return n.IP.String()
		}
		if v6 == "" {
			v6 = n.IP.String()
		}
	}
	return v6
}

// validName checks a service name or instance id: one non-empty path
// segment.
func validName(what, s string) error {
	if s == "" || strings.Contains(s, "/") || s == "." || s == ".." {
		return fmt.Errorf("%w: %s %q", ErrInvalidInstance, what, s)
	}
	return nil
}
