package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// ttnUplink is the part of a The Things Network (v3) uplink webhook
// message that holds readings. Numbers are kept as their JSON text, so
// that they are validated by Harbor's own rules.
type ttnUplink struct {
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

// DecodeTTN parses and validates a The Things Network v3 uplink webhook
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
func DecodeTTN(body []byte, now time.Time, opt Options) (Decoded, error) {
	if err := checkJSON(body, '{', "a TTN uplink message (a JSON object)"); err != nil {
		return Decoded{}, err
	}
	var up ttnUplink
	if err := json.Unmarshal(body, &up); err != nil {
		return Decoded{}, fmt.Errorf("%w: not a TTN uplink message: %v", ErrMalformed, err)
	}
	v := newValidator(opt.Limits, now)
	raw := jsonReading{time: rawField(up.ReceivedAt), shipID: rawField(up.EndDeviceIDs.DeviceID)}
	payload := up.UplinkMessage.DecodedPayload
	if t := rawField(payload["time"]); t.kind == 's' {
		if ms, ok := parseTimeMillis(t.text); ok && ms <= v.latest {
			raw.time = t
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
		raw.addNumber(k, payload[k])
	}
	if meta := up.UplinkMessage.RxMetadata; len(meta) > 0 {
		raw.addNumber("rssi", meta[0].RSSI)
		raw.addNumber("snr", meta[0].SNR)
		raw.addNumber("channel_rssi", meta[0].ChannelRSSI)
	}
	settings := up.UplinkMessage.Settings
	raw.addNumber("bandwidth", settings.DataRate.Lora.Bandwidth)
	raw.addNumber("spreading_factor", settings.DataRate.Lora.SpreadingFactor)
	raw.addNumber("frequency", settings.Frequency)
	if len(raw.flat) == 0 {
		return Decoded{}, nil
	}
	return v.result(v.object(-1, &raw, nil), opt)
}

// rawField is a JSON value as the scanner would have found it: strings
// unquoted, numbers as their text.
func rawField(m json.RawMessage) field {
	m = bytes.TrimSpace(m)
	switch {
	case len(m) == 0:
		return field{}
	case m[0] == '"':
		var s string
		if json.Unmarshal(m, &s) != nil {
			return field{kind: 'o'}
		}
		return field{kind: 's', text: []byte(s)}
	case string(m) == "null":
		return field{kind: 'l'}
	case isNumber(m):
		return field{kind: 'n', text: m}
	default:
		return field{kind: 'o'}
	}
}

// addNumber adds a flat field for a value that is a number or a string
// holding one; anything else (absent, text, booleans, objects) is skipped.
func (r *jsonReading) addNumber(key string, m json.RawMessage) {
	f := rawField(m)
	if f.kind == 'n' || (f.kind == 's' && isNumber(f.text)) {
		r.flat = append(r.flat, flatField{key: []byte(key), value: f})
	}
}
