package discovery_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/zkgo/zkgo/recipes/discovery"
)

// Records written by Curator 5.4.0's JsonInstanceSerializer (Debian's
// libcurator-discovery-java), for the instances built in the comments;
// the interop test (test/interop/discovery_curator_test.go) checks the
// same against a live Curator.
const (
	// builder().name("svc").id("id1").address("10.0.0.1").port(8080)
	//   .registrationTimeUTC(1234567890123L)
	//   .uriSpec(new UriSpec("{scheme}://foo.com:{port}")), default serializer
	curatorDefault = `{"name":"svc","id":"id1","address":"10.0.0.1","port":8080,"sslPort":null,"payload":null,` +
		`"registrationTimeUTC":1234567890123,"serviceType":"DYNAMIC","uriSpec":{"parts":[` +
		`{"value":"scheme","variable":true},{"value":"://foo.com:","variable":false},{"value":"port","variable":true}]}}`
	// the same with JsonInstanceSerializer(Object.class, false)
	curatorEnabled = `{"name":"svc","id":"id1","address":"10.0.0.1","port":8080,"sslPort":null,"payload":null,` +
		`"registrationTimeUTC":1234567890123,"serviceType":"DYNAMIC","uriSpec":{"parts":[` +
		`{"value":"scheme","variable":true},{"value":"://foo.com:","variable":false},{"value":"port","variable":true}]},` +
		`"enabled":true}`
)

// curatorPayload is the record of builder().name("svc").id("id1")
// .address("10.0.0.2").payload(P).sslPort(443).serviceType(STATIC)
// .registrationTimeUTC(1) as Curator writes it, for payload P written as p.
func curatorPayload(p string) string {
	return `{"name":"svc","id":"id1","address":"10.0.0.2","port":null,"sslPort":443,"payload":` + p +
		`,"registrationTimeUTC":1,"serviceType":"STATIC","uriSpec":null}`
}

func TestMarshalAsCurator(t *testing.T) {
	spec, err := discovery.ParseURISpec("{scheme}://foo.com:{port}")
	if err != nil {
		t.Fatal(err)
	}
	inst := discovery.Instance[any]{
		Name: "svc", ID: "id1", Address: "10.0.0.1", Port: new(8080),
		RegistrationTime: time.UnixMilli(1234567890123), URISpec: spec,
	}
	got, err := json.Marshal(inst)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != curatorDefault {
		t.Errorf("record:\n got %s\nwant %s", got, curatorDefault)
	}
	var back discovery.Instance[any]
	if err := json.Unmarshal([]byte(curatorEnabled), &back); err != nil {
		t.Fatal(err)
	}
	inst.ServiceType = discovery.Dynamic // as read: Curator always writes it
	if !reflect.DeepEqual(back, inst) {
		t.Errorf("read back %+v, want %+v", back, inst)
	}
	if got := back.URI(nil); got != "http://foo.com:8080" {
		t.Errorf("URI %q", got)
	}
}

func TestPayloadsAsCurator(t *testing.T) {
	// Payloads as Jackson writes them with Curator's class type info:
	// natural types bare, others with their Java class.
	for _, p := range []string{`"str"`, `5`, `2.5`, `true`, `{"@class":"java.util.HashMap","k":"v"}`,
		`["java.lang.Long",5]`, `["java.util.ArrayList",[1,2]]`, `{"@class":"Ser$Pojo","a":"x","b":3}`, `"<a&b>"`} {
		rec := curatorPayload(p)
		var raw discovery.Instance[json.RawMessage]
		if err := json.Unmarshal([]byte(rec), &raw); err != nil {
			t.Fatalf("%s: %v", rec, err)
		}
		if string(raw.Payload) != p || raw.SSLPort == nil || *raw.SSLPort != 443 || raw.Port != nil ||
			raw.ServiceType != discovery.Static || raw.RegistrationTime.UnixMilli() != 1 {
			t.Errorf("%s read as %+v", rec, raw)
		}
		if got, err := raw.MarshalJSON(); err != nil || string(got) != rec {
			t.Errorf("raw payload %s written as %s (%v)", p, got, err)
		}
		var generic discovery.Instance[any]
		if err := json.Unmarshal([]byte(rec), &generic); err != nil {
			t.Fatal(err)
		}
		if got, err := generic.MarshalJSON(); err != nil || string(got) != rec {
			t.Errorf("generic payload %s written as %s (%v)", p, got, err)
		}
	}

	type payload struct {
		Class string `json:"@class"`
		A     string `json:"a"`
		B     int    `json:"b"`
	}
	typed := discovery.Instance[payload]{Name: "svc", ID: "id1", Address: "10.0.0.2", SSLPort: new(443),
		ServiceType: discovery.Static, RegistrationTime: time.UnixMilli(1),
		Payload: payload{Class: "Ser$Pojo", A: "x", B: 3}}
	want := curatorPayload(`{"@class":"Ser$Pojo","a":"x","b":3}`)
	if got, err := json.Marshal(typed); err != nil || string(got) != want {
		t.Errorf("struct payload written as %s (%v), want %s", got, err, want)
	}
}

func TestUnmarshalDefaults(t *testing.T) {
	var inst discovery.Instance[string]
	if err := json.Unmarshal([]byte(`{"name":"n","id":"i","extra":[1]}`), &inst); err != nil {
		t.Fatal(err)
	}
	want := discovery.Instance[string]{Name: "n", ID: "i", ServiceType: discovery.Dynamic}
	if !reflect.DeepEqual(inst, want) {
		t.Errorf("got %+v, want %+v", inst, want)
	}
	if err := json.Unmarshal([]byte(`{"name":"n","id":"i","enabled":false,"payload":"p"}`), &inst); err != nil {
		t.Fatal(err)
	}
	if !inst.Disabled || inst.Payload != "p" {
		t.Errorf("got %+v, want Disabled and payload p", inst)
	}
	for _, bad := range []string{`[`, `{"name":5}`, `{"payload":{"x":1}}`} {
		if err := inst.UnmarshalJSON([]byte(bad)); !errors.Is(err, discovery.ErrInvalidRecord) {
			t.Errorf("%s: %v, want ErrInvalidRecord", bad, err)
		}
	}
}

func TestURISpec(t *testing.T) {
	spec, err := discovery.ParseURISpec("{scheme}://{address}:{ ssl-port }/{name}/{id}?t={service-type}&x={[}{x}{]}")
	if err != nil {
		t.Fatal(err)
	}
	inst := discovery.Instance[any]{Name: "svc", ID: "i1", Address: "h", SSLPort: new(443),
		ServiceType: discovery.DynamicSequential, URISpec: spec}
	want := "https://h:443/svc/i1?t=dynamic_sequential&x={7}"
	if got := inst.URI(map[string]string{"x": "7"}); got != want {
		t.Errorf("URI %q, want %q", got, want)
	}
	for _, bad := range []string{"{a{b}}", "a}", "{a"} {
		if _, err := discovery.ParseURISpec(bad); err == nil {
			t.Errorf("ParseURISpec(%q) succeeded", bad)
		}
	}
}

func TestNewInstance(t *testing.T) {
	a := discovery.NewInstance("svc", 1)
	b := discovery.NewInstance("svc", 2)
	if a.ID == b.ID || len(a.ID) != 36 || a.ServiceType != discovery.Dynamic || a.RegistrationTime.IsZero() {
		t.Errorf("NewInstance: %+v and %+v", a, b)
	}
}
