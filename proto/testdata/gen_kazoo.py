#!/usr/bin/python3
"""Writes golden request bodies produced by kazoo's own serializer.

Run by `go test ./proto -run TestGolden -update`, which stores stdout in
testdata/kazoo.golden. Each line is "<case name> <hex bytes>"; the Go test
holds the matching records. kazoo writes empty strings as length -1, so cases
with empty strings are decoded by the Go test but not re-encoded byte for byte.
"""
import sys

from kazoo.protocol import serialization as s
from kazoo.security import ACL, Id

OPEN = [ACL(31, Id('world', 'anyone'))]
TWO = [ACL(31, Id('digest', 'bob:hash=')), ACL(1, Id('ip', '10.0.0.0/8'))]
PW = bytes(range(16))

CASES = [
    ('connect', s.Connect(0, 0x1234, 30000, 0x0102030405060708, PW, False)),
    ('connect_ro', s.Connect(0, 0, 10000, 0, b'\x00' * 16, True)),
    ('create', s.Create('/a/b', b'data', OPEN, 3)),
    ('create_nulldata', s.Create('/n', None, TWO, 0)),
    ('create2', s.Create2('/c', b'\x00\xff', OPEN, 4)),
    ('delete', s.Delete('/a', -1)),
    ('exists_watch', s.Exists('/e', True)),
    ('exists', s.Exists('/e', False)),
    ('getdata', s.GetData('/g', True)),
    ('setdata', s.SetData('/s', b'v2', 7)),
    ('getacl', s.GetACL('/acl')),
    ('setacl', s.SetACL('/acl', TWO, 3)),
    ('getchildren', s.GetChildren('/', True)),
    ('getchildren2', s.GetChildren2('/p', False)),
    ('sync', s.Sync('/sync')),
    ('check', s.CheckVersion('/ck', 5)),
    ('multi', s.Transaction([
        s.Create('/t', b'x', OPEN, 0),
        s.Delete('/t/old', 2),
        s.SetData('/t', b'y', -1),
        s.CheckVersion('/t', 1),
    ])),
    ('multi_empty', s.Transaction([])),
    ('reconfig', s.Reconfig('server.4=h4:2888:3888;2181', 'server.1',
                            'server.2=h2:2888:3888;2181', 0x100000000)),
    ('reconfig_nulls', s.Reconfig('server.4=h4:2888:3888', None, None, -1)),
    ('auth', s.Auth(0, 'digest', 'user:secret')),
    ('sasl', s.SASL(b'token')),
]


def main():
    for name, rec in CASES:
        sys.stdout.write('%s %s\n' % (name, bytes(rec.serialize()).hex()))


if __name__ == '__main__':
    main()
