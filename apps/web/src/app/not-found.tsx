import Link from "next/link";

export default function NotFound() {
  return (
    <main className="grid min-h-screen place-items-center px-4 text-center">
      <div>
        <h1 className="text-xl font-semibold">Page not found</h1>
        <p className="mt-2 text-sm text-slate-500">
          <Link href="/" className="text-sky-600 hover:underline">
            Back to images
          </Link>
        </p>
      </div>
    </main>
  );
}
