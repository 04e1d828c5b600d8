import { NextResponse, type NextRequest } from "next/server";

/** Must match SESSION_COOKIE in @berth/api (not imported: proxy code stays dependency-free). */
const SESSION_COOKIE = "berth_session";

/**
 * Sends visitors without a session cookie to /sign-in. Only the cookie's presence is
 * checked here; the API validates it, and the client redirects on UNAUTHORIZED.
 */
export function proxy(request: NextRequest) {
  const { pathname, search } = request.nextUrl;
  const hasSession = Boolean(request.cookies.get(SESSION_COOKIE)?.value);
  // An invitation link is opened by someone who has no account yet.
  if (pathname === "/sign-in" || pathname.startsWith("/invite/")) return NextResponse.next();
  if (!hasSession) {
    const url = request.nextUrl.clone();
    url.pathname = "/sign-in";
    url.search = pathname === "/" ? "" : `?next=${encodeURIComponent(pathname + search)}`;
    return NextResponse.redirect(url);
  }
  return NextResponse.next();
}

export const config = {
  // Pages only: API routes answer 401 themselves; static assets stay public.
  matcher: ["/((?!api/|_next/|favicon\\.ico|.*\\.(?:svg|png|ico|jpg|css|js|map|txt)$).*)"],
};
