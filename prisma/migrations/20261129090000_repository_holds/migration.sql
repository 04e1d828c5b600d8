-- Which of `digests` a repository holds (packages/api/src/registry-api/repository-content.ts):
-- pushed or mounted there (repository_content), or named by its tags (and the indexes they name),
-- its mirror fills and its artifacts. A function so that each connection plans it once: planning
-- the statement took longer than running it, and every blob HEAD a push makes asks it.
CREATE FUNCTION repository_holds(repo TEXT, digests TEXT[]) RETURNS SETOF TEXT
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY
  WITH pushed AS (
    SELECT rc.digest FROM repository_content rc WHERE rc.repository = repo AND rc.digest = ANY(digests)
  ), rest AS (
    SELECT w.d FROM unnest(digests) AS w(d) WHERE w.d NOT IN (SELECT p.digest FROM pushed p)
  ), held_images AS (
    SELECT t.image_id FROM tags t WHERE t.repository = repo
    UNION SELECT c.image_id FROM tags t JOIN manifest_index_children c ON c.index_digest = t.index_digest
      WHERE t.repository = repo
    UNION SELECT m.image_id FROM mirror_cache m WHERE m.repository = repo
  )
  SELECT p.digest FROM pushed p
  UNION ALL
  SELECT r.d FROM rest r WHERE
    EXISTS (SELECT 1 FROM held_images h JOIN image_layers l ON l.image_id = h.image_id WHERE l.blob = r.d)
    OR EXISTS (SELECT 1 FROM held_images h WHERE h.image_id = r.d)
    OR EXISTS (SELECT 1 FROM held_images h JOIN images i ON i.id = h.image_id WHERE i.manifest_digest = r.d)
    OR EXISTS (SELECT 1 FROM held_images h JOIN image_manifests m ON m.image_id = h.image_id WHERE m.digest = r.d)
    OR EXISTS (SELECT 1 FROM tags t WHERE t.repository = repo AND (t.index_digest = r.d OR t.manifest_digest = r.d))
    OR EXISTS (SELECT 1 FROM tags t JOIN manifest_index_children c ON c.index_digest = t.index_digest
               WHERE t.repository = repo AND c.manifest_digest = r.d)
    OR EXISTS (SELECT 1 FROM mirror_cache m WHERE m.repository = repo AND m.upstream_digest = r.d)
    OR EXISTS (SELECT 1 FROM artifacts a WHERE a.repository = repo AND (a.digest = r.d OR r.d = ANY(a.blobs)));
END
$$;
