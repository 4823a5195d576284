//! The seed's own examples (../shared/seeds: the original Locks page), completed into valid JSON:
//! what every decoder test starts from.

/// Two locks as the seed lists them, one with an address and one without.
pub const SEED_LOCKS: &str = r#"{"locks":[
    {"auth":"opt-out","data":"customer-001","id":"danalock-00:00:00:00:00:01","name":"Hjemme",
     "street":"Parkveien 4","postalCode":"0351","city":"Oslo","countryIso":"no"},
    {"auth":"opt-out","data":"customer-001","id":"doora-00:00:00:00:00:01","name":"Hovedinngang"}]}"#;

/// One event as the seed shows it.
pub const SEED_EVENTS: &str = r#"{"events":[{"id":"0001b180-09ae-473d-ad7f-a46d6895feed",
    "keyId":"f7d5f434-e8be-4a5b-ab2f-243d68fe7e88","action":"unlocked","name":"Franz Ferdinand",
    "msn":"+19175559999","created":"2019-08-07T13:14:47.350Z"}]}"#;

/// A revoked key with the events it was used for, one by the partner (no phone).
pub const SEED_KEY: &str = r#"{"id":"117ec32d-5ac3-422b-82de-cbb64540bffd","lockId":"danalock-d4:b5:8f:59:47:79",
    "state":"revoked","start":"2018-06-05T11:00:00.000Z","end":"2018-06-10T17:00:00.000Z","events":[
    {"action":"locked","created":"2018-06-05T11:36:49.235Z","msn":"+4792443609","name":"Kari Nordmann"},
    {"action":"unlocked","created":"2018-06-05T12:37:47.024Z","msn":"","name":"Partner X"}]}"#;
