-- When a run waiting for its connection's daily API quota goes on (ms since the epoch); NULL while
-- it is not waiting. Set when a slice stops on the quota, cleared when the next slice starts.
ALTER TABLE sync_runs ADD COLUMN waiting_until INTEGER;
