-- Manifests pushed by digest through /v2/ before `repository_content` existed, and named by no tag
-- of their repository, stopped being served there when it came (the repository held only what its
-- tags named). The audit log says who pushed what where: each successful `image.push` of
-- `<name>@<digest>` gives its repository the manifest (or index) again, with the image's config
-- and layers. Names in the audit are familiar (`team/app`, `app`); stored ones are normalised.
WITH pushed AS (
  SELECT split_part(t->>'ref', '@', 1) AS familiar,
         e.details->>'manifestDigest' AS manifest,
         e.details->>'indexDigest' AS index,
         e.at
  FROM audit_events e CROSS JOIN LATERAL jsonb_array_elements(e.targets) t
  WHERE e.action = 'image.push' AND e.result = 'ok' AND e.interface = 'registry' AND t->>'ref' LIKE '%@sha256:%'
), named AS (
  SELECT CASE
           WHEN familiar !~ '/' THEN 'docker.io/library/' || familiar
           WHEN split_part(familiar, '/', 1) ~ '[.:]' OR split_part(familiar, '/', 1) = 'localhost' THEN familiar
           ELSE 'docker.io/' || familiar
         END AS repository,
         manifest, index, at
  FROM pushed
)
INSERT INTO repository_content (repository, digest, created_at)
SELECT n.repository, c.digest, min(n.at)
FROM named n CROSS JOIN LATERAL (
  SELECT m.digest FROM image_manifests m WHERE m.digest = n.manifest
  UNION SELECT m.image_id FROM image_manifests m WHERE m.digest = n.manifest
  UNION SELECT l.blob FROM image_manifests m JOIN image_layers l ON l.image_id = m.image_id WHERE m.digest = n.manifest
  UNION SELECT x.digest FROM manifest_indexes x WHERE x.digest = n.index
) c
GROUP BY n.repository, c.digest
ON CONFLICT (repository, digest) DO NOTHING;
