export { cn } from "./cn";
export { Button, ButtonLink, buttonClasses, Spinner, type ButtonProps } from "./button";
export { Input, Select, Field, Checkbox, inputClasses } from "./input";
export { Table, THead, TBody, Tr, Th, ActionsTh, Td, SortTh } from "./table";
export { Badge } from "./badge";
export { Card, CardHeader, Stat } from "./card";
export { EmptyState, ErrorState, Skeleton, TableSkeleton } from "./states";
export { Dialog } from "./dialog";
export { CopyButton, CopyField } from "./copy-button";
