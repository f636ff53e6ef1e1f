// CloudFront Function (cloudfront-js-2.0), viewer request, on the dashboard's
// default behaviour. The dashboard is a single-page app: a path whose last
// segment has no dot (/projects/prj_1, /auth/callback) is a route and gets
// index.html; files (/assets/index-3f2a.js, /config.json) are served as they
// are, so a missing asset is a 403 from S3, never index.html. /v1/*, /git/*
// and /docs go to the API and never reach this function.
// ui/e2e/edge.mjs runs this same file in front of ui/dist.
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  var last = uri.substring(uri.lastIndexOf('/') + 1);
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
