package services

import restate "github.com/qcodr/restate-sdk-go"

// MapEntry is an entry of MapObject.
type MapEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// MapObject is a virtual object storing each entry under its own state key:
// set, get ("" when absent) and clearAll (returns every entry and clears
// the object's state).
var MapObject = restate.NewObject("MapObject",
	restate.NewObjectHandler("set", restate.NoOutput(func(ctx restate.ObjectContext, e MapEntry) error {
		return restate.NewStateKey[string](e.Key).Set(ctx, e.Value)
	})),
	restate.NewObjectHandler("get", func(ctx restate.ObjectContext, key string) (string, error) {
		return restate.NewStateKey[string](key).Get(ctx)
	}),
	restate.NewObjectHandler("clearAll", restate.NoInput(func(ctx restate.ObjectContext) ([]MapEntry, error) {
		keys, err := restate.Keys(ctx)
		if err != nil {
			return nil, err
		}
		entries := make([]MapEntry, 0, len(keys))
		for _, k := range keys {
			v, err := restate.NewStateKey[string](k).Get(ctx)
			if err != nil {
				return nil, err
			}
			entries = append(entries, MapEntry{Key: k, Value: v})
		}
		return entries, restate.ClearAll(ctx)
	})),
)
