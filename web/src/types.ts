// Shapes from the API contract (v2 §3.1); the generated schema covers what the gateway
// documents today, these cover the rest the same way.
export interface Author { id: number; username: string; avatar_url?: string | null }
export interface Post {
  id: number; title: string; content: string; image_url: string | null; thumbnail_url?: string | null;
  author: Author; created_at: string; updated_at: string; edited?: boolean;
  likes_count: number; comments_count: number;
  likes?: { user_id: number; username: string }[]; removed?: boolean; removed_reason?: string | null;
}
export interface Comment {
  id: number; post_id: number; author: Author | null; content: string; created_at: string;
  updated_at: string; parent: number | null; edited?: boolean; is_deleted?: boolean; removed?: boolean;
}
export interface Page<T> { count?: number; next: string | null; previous: string | null; results: T[] }
export interface Notification {
  id: number; type: "LIKE" | "COMMENT" | "REPLY" | "SYSTEM"; message: string;
  data: { post_id?: number; comment_id?: number; actor_id?: number | null }; read: boolean; created_at: string;
}
export interface Ban { reason: string; created_at: string; expires_at: string | null }
export interface Me {
  id: number; username: string; first_name: string; last_name: string; bio?: string;
  avatar_url?: string | null; created_at: string; posts_count: number; comments_count: number;
  email: string; is_admin?: boolean; ban?: Ban | null;
}
export interface Report {
  id: number; target_type: "post" | "comment"; target_id: number; post_id: number; reason: string;
  details: string; status: "open" | "resolved"; reporter: { id: number; username: string } | null;
  target: { author: { id: number; username: string } | null; title: string | null; content: string };
  created_at: string; resolution: null | { action: string; note: string; ban_days: number | null; resolved_at: string };
}
export interface ModlogEntry {
  id: number; action: string; target_type: string; target_id: number; reason: string;
  created_at: string; expires_at?: string | null; moderator?: { id: number; username: string };
}
