package proto

// NewRequest returns a new empty request record for op, to decode the body
// that follows its RequestHeader. It returns nil for ops without a body
// (ping, closeSession, whoAmI) and for ops clients cannot send.
func NewRequest(op OpCode) Record {
	switch op {
	case OpCreate, OpCreate2, OpCreateContainer:
		return &CreateRequest{}
	case OpCreateTTL:
		return &CreateTTLRequest{}
	case OpDelete:
		return &DeleteRequest{}
	case OpExists:
		return &ExistsRequest{}
	case OpGetData:
		return &GetDataRequest{}
	case OpSetData:
		return &SetDataRequest{}
	case OpGetACL:
		return &GetACLRequest{}
	case OpSetACL:
		return &SetACLRequest{}
	case OpGetChildren:
		return &GetChildrenRequest{}
	case OpGetChildren2:
		return &GetChildren2Request{}
	case OpSync:
		return &SyncRequest{}
	case OpCheck:
		return &CheckVersionRequest{}
	case OpMulti, OpMultiRead:
		return &MultiRequest{}
	case OpReconfig:
		return &ReconfigRequest{}
	case OpCheckWatches:
		return &CheckWatchesRequest{}
	case OpRemoveWatches:
		return &RemoveWatchesRequest{}
	case OpAuth:
		return &AuthPacket{}
	case OpSetWatches:
		return &SetWatches{}
	case OpSetWatches2:
		return &SetWatches2{}
	case OpSASL:
		return &GetSASLRequest{}
	case OpGetEphemerals:
		return &GetEphemeralsRequest{}
	case OpGetAllChildrenNumber:
		return &GetAllChildrenNumberRequest{}
	case OpAddWatch:
		return &AddWatchRequest{}
	}
	return nil
}

// NewResponse returns a new empty response record for a successful reply to
// op, to decode the body that follows its ReplyHeader (only when the header's
// err is OK: error replies are header-only). OpNotification yields a
// *WatcherEvent. It returns nil for ops whose reply is header-only (delete,
// checkWatches, removeWatches, auth, setWatches, setWatches2, ping,
// closeSession) and for unknown ops.
func NewResponse(op OpCode) Record {
	switch op {
	case OpNotification:
		return &WatcherEvent{}
	case OpCreate:
		return &CreateResponse{}
	case OpCreate2, OpCreateContainer, OpCreateTTL:
		return &Create2Response{}
	case OpExists:
		return &ExistsResponse{}
	case OpGetData, OpReconfig:
		return &GetDataResponse{}
	case OpSetData, OpCheck:
		return &SetDataResponse{}
	case OpGetACL:
		return &GetACLResponse{}
	case OpSetACL:
		return &SetACLResponse{}
	case OpGetChildren:
		return &GetChildrenResponse{}
	case OpGetChildren2:
		return &GetChildren2Response{}
	case OpSync:
		return &SyncResponse{}
	case OpMulti, OpMultiRead:
		return &MultiResponse{}
	case OpSASL:
		return &SetSASLResponse{}
	case OpGetEphemerals:
		return &GetEphemeralsResponse{}
	case OpGetAllChildrenNumber:
		return &GetAllChildrenNumberResponse{}
	case OpAddWatch:
		return &ErrorResponse{}
	case OpWhoAmI:
		return &WhoAmIResponse{}
	}
	return nil
}
