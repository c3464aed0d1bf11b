-- Client-named events: an event carries an optional event_id, and a user's
-- event_id is stored once, so a retried event counts once.
ALTER TABLE events ADD COLUMN client_event_id TEXT;
CREATE UNIQUE INDEX events_client_event_id ON events (user_id, client_event_id) WHERE client_event_id IS NOT NULL;
