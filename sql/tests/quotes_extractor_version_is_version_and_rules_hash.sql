-- extractor_version is '<package version>+<8 hex digits>' (null only in rows written before it existed).

select quote_id, extractor_version
from {{ ref('stg_quotes') }}
where not regexp_full_match(extractor_version, '[0-9A-Za-z.]+\+[0-9a-f]{8}')
