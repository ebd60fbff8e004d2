// Package ttn decodes The Things Network's (v3) uplink webhook messages
// into readings.
package ttn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/harbor-ingest/harbor/pkg/schema"
)

// uplink is the part of a The Things Network (v3) uplink webhook
// message that holds readings. Numbers are kept as their JSON text, so
// that they are validated by Harbor's own rules.
type uplink struct {
	EndDeviceIDs struct {
		DeviceID json.RawMessage `json:"device_id"`
	} `json:"end_device_ids"`
	ReceivedAt    json.RawMessage `json:"received_at"`
	UplinkMessage struct {
		DecodedPayload map[string]json.RawMessage `json:"decoded_payload"`
		RxMetadata     []struct {
			RSSI        json.RawMessage `json:"rssi"`
			SNR         json.RawMessage `json:"snr"`
			ChannelRSSI json.RawMessage `json:"channel_rssi"`
		} `json:"rx_metadata"`
		Settings struct {
			DataRate struct {
				Lora struct {
					Bandwidth       json.RawMessage `json:"bandwidth"`
					SpreadingFactor json.RawMessage `json:"spreading_factor"`
				} `json:"lora"`
			} `json:"data_rate"`
			Frequency json.RawMessage `json:"frequency"` // a string of digits in TTN's JSON
		} `json:"settings"`
	} `json:"uplink_message"`
}

// Decode parses and validates a The Things Network v3 uplink webhook
// message as the readings of one ship, the end device
// (end_device_ids.device_id): one reading for each number, or string
// holding a number, of uplink_message.decoded_payload, and the radio's
// rssi, snr and channel_rssi (of the first gateway), bandwidth and
// spreading_factor (LoRa), and frequency. Other payload fields are
// skipped. The time of every reading is the message's received_at, or
// decoded_payload.time when that is a valid time not more than
// Limits.MaxFuture ahead (it is then not a reading itself).
//
// An uplink that holds nothing numeric decodes to no readings and no
// error: TTN must not retry it.
func Decode(body []byte, now time.Time, opt schema.Options) (schema.Decoded, error) {
	var up uplink
	if err := json.Unmarshal(body, &up); err != nil {
		return schema.Decoded{}, fmt.Errorf("%w: not a TTN uplink message: %v", schema.ErrMalformed, err)
	}
	v := schema.NewValidator(now, opt, schema.AtIndex)
	raw := schema.Raw{Time: rawField(up.ReceivedAt), ShipID: rawField(up.EndDeviceIDs.DeviceID)}
	payload := up.UplinkMessage.DecodedPayload
	if t := rawField(payload["time"]); t.Kind == schema.String {
		if ms, ok := schema.ParseTimeMillis(t.Text); ok && ms <= v.Latest() {
			raw.Time = t
		}
	}
	keys := make([]string, 0, len(payload))
	for k := range payload {
		if k != "time" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys) // map order is random; readings come in a stable one
	for _, k := range keys {
		addNumber(&raw, k, payload[k])
	}
	if meta := up.UplinkMessage.RxMetadata; len(meta) > 0 {
		addNumber(&raw, "rssi", meta[0].RSSI)
		addNumber(&raw, "snr", meta[0].SNR)
		addNumber(&raw, "channel_rssi", meta[0].ChannelRSSI)
	}
	settings := up.UplinkMessage.Settings
	addNumber(&raw, "bandwidth", settings.DataRate.Lora.Bandwidth)
	addNumber(&raw, "spreading_factor", settings.DataRate.Lora.SpreadingFactor)
	addNumber(&raw, "frequency", settings.Frequency)
	if len(raw.Flat) == 0 {
		return schema.Decoded{}, nil
	}
	return v.Result(v.Object(-1, &raw, nil))
}

// rawField is a JSON value as the scanner would have found it: strings
// unquoted, numbers as their text.
func rawField(m json.RawMessage) schema.Field {
	m = bytes.TrimSpace(m)
	switch {
	case len(m) == 0:
		return schema.Field{}
	case m[0] == '"':
		var s string
		if json.Unmarshal(m, &s) != nil {
			return schema.Field{Kind: schema.Other}
		}
		return schema.Field{Kind: schema.String, Text: []byte(s)}
	case string(m) == "null":
		return schema.Field{Kind: schema.Null}
	case schema.IsNumber(m):
		return schema.Field{Kind: schema.Number, Text: m}
	default:
		return schema.Field{Kind: schema.Other}
	}
}

// addNumber adds a flat field for a value that is a number or a string
// holding one; anything else (absent, text, booleans, objects) is skipped.
func addNumber(r *schema.Raw, key string, m json.RawMessage) {
	f := rawField(m)
	if f.Kind == schema.Number || (f.Kind == schema.String && schema.IsNumber(f.Text)) {
		r.Flat = append(r.Flat, schema.FlatField{Key: []byte(key), Value: f})
	}
}
