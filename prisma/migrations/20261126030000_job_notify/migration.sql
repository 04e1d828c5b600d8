-- Every change to a job is announced on the `berth_jobs` channel (payload: "<id> <state>"), so
-- any replica can wake its watchers and, for a queued job, its runner at once instead of
-- re-reading the table on a timer. NOTIFY is delivered on commit, and only then.
CREATE FUNCTION jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('berth_jobs', NEW.id::text || ' ' || NEW.state);
  RETURN NULL;
END;
$$;

CREATE TRIGGER jobs_notify AFTER INSERT OR UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION jobs_notify();
